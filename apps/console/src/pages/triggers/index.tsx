import { Route, Routes } from 'react-router';
import { TriggerList } from './list';
import { NewTriggerPage, TriggerPage } from './page';
import './triggers.css';

/** The triggers area: the list, a new trigger, a trigger's tabs (definition, diagram, preview, backtest, impact, statistics, versions). */
export default function TriggersArea() {
  return (
    <Routes>
      <Route index element={<TriggerList />} />
      <Route path="new" element={<NewTriggerPage />} />
      <Route path=":id" element={<TriggerPage />} />
    </Routes>
  );
}
