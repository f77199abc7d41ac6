import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { percent } from '../../lib/format';
import { useApi, useCan } from '../../lib/session';
import { statusOf, triggerFigures, type TriggerListItem, type TriggerStats } from './model';

const BADGE = { enabled: 'badge ok', disabled: 'badge', draft: 'badge warn' } as const;

/** `/triggers`: every trigger with its status, version and the figures of its live runs. */
export function TriggerList() {
  const api = useApi();
  const canEdit = useCan('editTriggers');
  const list = useQuery({ queryKey: ['triggers'], queryFn: () => api.get<{ triggers: TriggerListItem[] }>('/v1/triggers') });
  const stats = useQuery({
    queryKey: ['analytics', 'triggers'],
    queryFn: () => api.get<{ triggers: TriggerStats[] }>('/v1/analytics/triggers'),
  });
  const figures = triggerFigures(stats.data?.triggers ?? []);
  return (
    <>
      <PageHeading
        actions={
          canEdit ? (
            <Link className="button primary" to="/triggers/new">
              New trigger
            </Link>
          ) : undefined
        }
      >
        Triggers
      </PageHeading>
      <ErrorMessage error={list.error} title="Could not load the triggers" />
      <ErrorMessage error={stats.error} title="Could not load the trigger figures" />
      {list.isPending ? (
        <Loading label="Loading triggers…" />
      ) : list.data ? (
        <DataTable
          caption={`Triggers (${list.data.triggers.length}); figures of live runs, every version`}
          columns={['Trigger', 'Id', 'Status', 'Version', 'Runs', 'Messages sent', 'Suppressed', 'Converted', 'Conversion']}
          rows={list.data.triggers.map((t) => {
            const f = figures.get(t.id);
            const status = statusOf(t);
            return [
              <Link key="l" to={`/triggers/${encodeURIComponent(t.id)}`}>
                {t.name || t.id}
              </Link>,
              <code key="c">{t.id}</code>,
              <span key="s" className={BADGE[status]}>
                {status}
              </span>,
              t.version,
              f?.runs ?? 0,
              f?.sent ?? 0,
              f?.suppressed ?? 0,
              f?.converted ?? 0,
              percent(f && f.runs ? f.converted / f.runs : null),
            ];
          })}
          csvRows={list.data.triggers.map((t) => {
            const f = figures.get(t.id);
            return [
              t.name,
              t.id,
              statusOf(t),
              t.version,
              f?.runs ?? 0,
              f?.sent ?? 0,
              f?.suppressed ?? 0,
              f?.converted ?? 0,
              f && f.runs ? f.converted / f.runs : '',
            ];
          })}
          filename="triggers.csv"
        />
      ) : null}
    </>
  );
}
