import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The admin area (placeholder until built). */
export default function AdminArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Admin</PageHeading>} />
    </Routes>
  );
}
