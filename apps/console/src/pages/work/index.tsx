import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The work area (placeholder until built). */
export default function WorkArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Work</PageHeading>} />
    </Routes>
  );
}
