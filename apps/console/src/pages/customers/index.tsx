import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The customers area (placeholder until built). */
export default function CustomersArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Customers</PageHeading>} />
    </Routes>
  );
}
