import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { diffSummary, hunks, lineDiff } from './diff';
import { toYaml } from './document';
import { describeAuthor, type TriggerDetail, type TriggerVersionInfo } from './model';

/** The Versions tab: who saved each version when, and the line diff between any two. */
export function VersionsTab({ triggerId, versions }: { triggerId: string; versions: TriggerVersionInfo[] }) {
  const latest = versions.length ? versions[versions.length - 1].version : 1;
  const [from, setFrom] = useState(Math.max(1, latest - 1));
  const [to, setTo] = useState(latest);
  return (
    <section aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <DataTable
        caption={`Version history of ${triggerId}`}
        columns={['Version', 'Saved', 'By']}
        rows={[...versions].reverse().map((v) => [v.version, formatTime(v.definedAt), describeAuthor(v.definedBy)])}
        csvRows={[...versions].reverse().map((v) => [v.version, v.definedAt, v.definedBy])}
        filename={`${triggerId}-versions.csv`}
      />
      <h3 id="compare-heading">Compare versions</h3>
      <div className="row" role="group" aria-labelledby="compare-heading">
        <div className="field">
          <label htmlFor="diff-from">From version</label>
          <select id="diff-from" value={from} onChange={(e) => setFrom(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="diff-to">To version</label>
          <select id="diff-to" value={to} onChange={(e) => setTo(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
              </option>
            ))}
          </select>
        </div>
      </div>
      <VersionDiff triggerId={triggerId} from={from} to={to} />
    </section>
  );
}

function useVersion(triggerId: string, version: number) {
  const api = useApi();
  return useQuery({
    queryKey: ['trigger', triggerId, 'version', version],
    queryFn: () => api.get<TriggerDetail>(`/v1/triggers/${encodeURIComponent(triggerId)}`, { version }),
    staleTime: Infinity, // a version never changes
  });
}

function VersionDiff({ triggerId, from, to }: { triggerId: string; from: number; to: number }) {
  const a = useVersion(triggerId, from);
  const b = useVersion(triggerId, to);
  if (a.error || b.error) return <ErrorMessage error={a.error ?? b.error} title="Could not load a version" />;
  if (!a.data || !b.data) return <Loading label="Loading the versions…" />;
  const lines = lineDiff(toYaml(a.data.definition), toYaml(b.data.definition));
  const { added, removed } = diffSummary(lines);
  const parts = hunks(lines);
  return (
    <div className="diff">
      <p role="status">
        Version {from} → {to}: {added} {added === 1 ? 'line' : 'lines'} added, {removed} removed.
      </p>
      {parts.length ? (
        <table className="diff-table">
          <caption>
            Changes from version {from} to version {to}
          </caption>
          <thead>
            <tr>
              <th scope="col">Line in {from}</th>
              <th scope="col">Line in {to}</th>
              <th scope="col">Change</th>
              <th scope="col">Text</th>
            </tr>
          </thead>
          {parts.map((h, i) => (
            <tbody key={i}>
              {h.lines.map((l, j) => (
                <tr key={j} className={`diff-${l.type}`}>
                  <td>{l.oldLine ?? ''}</td>
                  <td>{l.newLine ?? ''}</td>
                  <td>{l.type === 'added' ? '+ added' : l.type === 'removed' ? '− removed' : ''}</td>
                  <td>
                    <code className="diff-text">{l.text || ' '}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      ) : (
        <p className="muted">The two versions are the same.</p>
      )}
    </div>
  );
}
