import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The triggers area (placeholder until built). */
export default function TriggersArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Triggers</PageHeading>} />
    </Routes>
  );
}
