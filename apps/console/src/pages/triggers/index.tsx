import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { Loading } from '../../components/ui';
import { TriggerList } from './list';
import './triggers.css';

// the editor (CodeMirror), the diagram (React Flow) and the YAML parser load when a trigger is opened, not for the list
const TriggerPage = lazy(() => import('./page').then((m) => ({ default: m.TriggerPage })));
const NewTriggerPage = lazy(() => import('./page').then((m) => ({ default: m.NewTriggerPage })));

/** The triggers area: the list, a new trigger, a trigger's tabs (definition, diagram, preview, backtest, impact, statistics, versions). */
export default function TriggersArea() {
  return (
    <Suspense fallback={<Loading label="Loading the trigger editor…" />}>
      <Routes>
        <Route index element={<TriggerList />} />
        <Route path="new" element={<NewTriggerPage />} />
        <Route path=":id" element={<TriggerPage />} />
      </Routes>
    </Suspense>
  );
}
