import { Route, Routes } from 'react-router';
import { PageHeading } from '../../components/ui';

/** The segments area (placeholder until built). */
export default function SegmentsArea() {
  return (
    <Routes>
      <Route index element={<PageHeading>Segments</PageHeading>} />
    </Routes>
  );
}
