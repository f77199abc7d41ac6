import { DryRun, customerStreamId, type DryRunOptions, type DryRunReport } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { replyRenderer } from '@journey/messaging';

export interface RunDryRunOptions extends DryRunOptions {
  /** Events read per page of the log. */
  pageSize?: number;
  /** After each page: log position reached and the head position the replay stops at. */
  onProgress?: (position: number, head: number) => void;
}

/**
 * The dry-run impact of a trigger change (see `DryRun`): ONE pass over the workspace's customer streams in log order up
 * to the head as it was at the start, each event read and decoded once and decided on by both versions' simulations.
 * Reads only. Yields to the event loop between pages, as `runBacktest` does.
 */
export async function runDryRun(store: EventStore, options: RunDryRunOptions): Promise<DryRunReport> {
  const { pageSize = 10_000, onProgress, ...rest } = options;
  const dryRun = new DryRun({ renderReply: replyRenderer(), ...rest });
  const head = await store.headPosition();
  const filter = { streamPrefixes: [customerStreamId(options.workspaceId, '')] };
  let after = 0n;
  while (after < head) {
    const page = await store.readAll({ after, maxCount: pageSize, filter });
    if (page.length === 0) break;
    for (const event of page) if (event.position <= head) dryRun.add(event);
    after = page[page.length - 1].position;
    onProgress?.(Number(after < head ? after : head), Number(head));
    await new Promise((resolve) => setImmediate(resolve));
  }
  onProgress?.(Number(head), Number(head));
  return dryRun.report();
}
