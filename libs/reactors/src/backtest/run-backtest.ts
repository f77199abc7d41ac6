import {
  Backtest,
  customerStreamId,
  settingsFromStream,
  workspaceStreamId,
  type BacktestOptions,
  type BacktestReport,
} from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { replyRenderer } from '@journey/messaging';

export interface RunBacktestOptions extends Omit<BacktestOptions, 'to'> {
  /** Exclusive end of the replayed range; default now. */
  to?: Date;
  /** Events read per page of the log. */
  pageSize?: number;
  /** After each page: log position reached and the head position the replay stops at. */
  onProgress?: (position: number, head: number) => void;
}

/**
 * Replays a draft trigger over the workspace's customer streams, page by page in log order up to the head as it was
 * when the backtest started (later appends are not part of it). Reads only: nothing is appended, nothing is sent.
 * Yields to the event loop between pages so a long replay does not stall a server it runs in.
 */
export async function runBacktest(store: EventStore, options: RunBacktestOptions): Promise<BacktestReport> {
  const { pageSize = 10_000, onProgress, ...rest } = options;
  // reply bodies render as live (the trigger reactor's renderer: the same Liquid, scope and bounds)
  // the workspace's default quiet hours as they are now (a trigger without its own would be deferred by them)
  const workspaceQuietHours =
    rest.workspaceQuietHours ?? settingsFromStream(await store.readStream(workspaceStreamId(options.workspaceId))).settings.quietHours;
  const backtest = new Backtest({
    renderReply: replyRenderer(),
    ...rest,
    ...(workspaceQuietHours ? { workspaceQuietHours } : {}),
    to: options.to ?? new Date(),
  });
  const head = await store.headPosition();
  const filter = { streamPrefixes: [customerStreamId(options.workspaceId, '')] };
  let after = 0n;
  while (after < head) {
    const page = await store.readAll({ after, maxCount: pageSize, filter });
    if (page.length === 0) break;
    for (const event of page) if (event.position <= head) backtest.add(event);
    after = page[page.length - 1].position;
    onProgress?.(Number(after < head ? after : head), Number(head));
    await new Promise((resolve) => setImmediate(resolve));
  }
  onProgress?.(Number(head), Number(head));
  return backtest.report();
}
