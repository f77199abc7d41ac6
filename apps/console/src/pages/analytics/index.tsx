import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The analytics area (placeholder until built). */
export default function AnalyticsArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Analytics</PageHeading>} />
    </Routes>
  );
}
