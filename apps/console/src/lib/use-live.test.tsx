import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionProvider } from './session';
import { LiveStatus, useLive } from './use-live';

/** An SSE response carrying `chunks`, then ending (`end`) or staying open. */
function stream(chunks: string[], end: boolean): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      if (end) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

function Page({ reads, seen }: { reads: () => number; seen: (type: string) => void }) {
  useQuery({ queryKey: ['thing'], queryFn: () => reads() });
  const status = useLive('/v1/events/stream', undefined, (e) => seen(e.event));
  return <LiveStatus status={status} />;
}

afterEach(() => vi.unstubAllGlobals());

describe('useLive', () => {
  it('delivers the events, and after a reconnect refetches the page (the stream does not replay what it missed)', async () => {
    const fetch = vi
      .fn()
      // the first connection: one event, then the stream ends (retry after 10 ms)
      .mockResolvedValueOnce(stream(['retry: 10\n\n', 'event: CustomerIdentified\ndata: {}\n\n'], true))
      // the second stays open
      .mockResolvedValueOnce(stream([], false));
    vi.stubGlobal('fetch', fetch);
    let reads = 0;
    const seen: string[] = [];
    render(
      <QueryClientProvider client={new QueryClient()}>
        <SessionProvider initial={{ key: 'k', principal: { workspaceId: 'default', role: 'admin', keyId: 'key_1' } }}>
          <Page reads={() => ++reads} seen={(t) => seen.push(t)} />
        </SessionProvider>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('● Live'));
    expect(seen).toEqual(['CustomerIdentified']);
    expect(fetch.mock.calls[0][0]).toContain('/v1/events/stream');
    // read once on mount, once more after the reconnect
    await waitFor(() => expect(reads).toBe(2));
  });
});
