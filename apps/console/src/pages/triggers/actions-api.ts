import type { Api } from '../../lib/api';
import type { TriggerImpact } from './actions-logic';

/**
 * The dry-run impact of a change, nothing changed: the editor's draft (PUT ?dryRun=true with the YAML document, as the
 * next version beside the latest) or, without one, enabling the saved latest version beside what is live now.
 */
export function dryRunImpact(
  api: Api,
  triggerId: string,
  options: { draft?: string; from?: string; to?: string } = {},
): Promise<TriggerImpact> {
  const path = `/v1/triggers/${encodeURIComponent(triggerId)}`;
  const query = { dryRun: 'true', from: options.from, to: options.to };
  if (options.draft !== undefined && options.draft.trim() !== '')
    return api.put<TriggerImpact>(path, options.draft, { query, contentType: 'application/yaml' });
  return api.post<TriggerImpact>(`${path}/enable`, undefined, { query });
}
