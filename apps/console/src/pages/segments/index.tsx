import { lazy } from 'react';
import { Link, Route, Routes } from 'react-router';
import { DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { useCan } from '../../lib/session';
import { BroadcastDetailPage, BroadcastsSection, NewBroadcastPage } from './broadcasts';
import { SegmentDetailPage } from './detail';
import { useSegments } from './queries';
import './segments.css';

// the editor (CodeMirror) is its own chunk: the list and the members pages do not wait for it
const SegmentEditorPage = lazy(() => import('./editor').then((m) => ({ default: m.SegmentEditorPage })));

/** The segments area: the list, define and edit, a segment's members and counts, broadcasts. */
export default function SegmentsArea() {
  return (
    <Routes>
      <Route index element={<SegmentsList />} />
      <Route path="new" element={<SegmentEditorPage />} />
      <Route path="broadcasts/new" element={<NewBroadcastPage />} />
      <Route path="broadcasts/:broadcastId" element={<BroadcastDetailPage />} />
      <Route path=":id" element={<SegmentDetailPage />} />
      <Route path=":id/edit" element={<SegmentEditorPage />} />
    </Routes>
  );
}

function SegmentsList() {
  const canEdit = useCan('editSegments');
  const segments = useSegments();
  const list = segments.data?.segments ?? [];
  return (
    <>
      <PageHeading
        actions={
          canEdit ? (
            <>
              <Link className="button primary" to="/segments/new">
                Define a segment
              </Link>
              <Link className="button" to="/segments/broadcasts/new">
                New broadcast
              </Link>
            </>
          ) : undefined
        }
      >
        Segments
      </PageHeading>
      <section aria-labelledby="segments-h">
        <h2 id="segments-h">Segments</h2>
        <ErrorMessage error={segments.error} title="Could not load the segments" />
        {segments.isPending ? (
          <Loading label="Loading the segments…" />
        ) : segments.data ? (
          <DataTable
            caption={`${list.length} segment${list.length === 1 ? '' : 's'}`}
            filename="segments.csv"
            columns={['Id', 'Name', 'Version', 'Members now']}
            rows={list.map((s) => [
              <Link key="id" to={`/segments/${encodeURIComponent(s.id)}`}>
                {s.id}
              </Link>,
              s.name,
              s.version,
              s.members,
            ])}
            csvRows={list.map((s) => [s.id, s.name, s.version, s.members])}
          />
        ) : null}
      </section>
      <BroadcastsSection />
    </>
  );
}
