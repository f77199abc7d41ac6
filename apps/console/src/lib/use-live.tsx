import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { Query } from './api';
import { openLive, type LiveEvent } from './live';
import { useApi } from './session';

/**
 * Keeps a live stream open while the component is mounted (`path` undefined: none) and calls `onEvent` for each
 * event; pages typically invalidate their queries there. The stream does not replay what it missed: after a
 * reconnect the page's queries are refetched instead. Returns whether the stream is connected, and why not.
 */
export function useLive(path: string | undefined, query: Query | undefined, onEvent: (event: LiveEvent) => void) {
  const api = useApi();
  const queryClient = useQueryClient();
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const [status, setStatus] = useState<{ connected: boolean; reason?: string }>({ connected: false });
  const url = path === undefined ? undefined : api.url(path, query);
  useEffect(() => {
    if (url === undefined) return;
    let connectedBefore = false;
    return openLive({
      url,
      headers: api.authHeaders(),
      onEvent: (e) => handler.current(e),
      onStatus: (connected, reason) => {
        if (connected && connectedBefore) void queryClient.invalidateQueries({ type: 'active' });
        connectedBefore ||= connected;
        setStatus({ connected, reason });
      },
    });
  }, [url, api, queryClient]);
  return status;
}

/** "Live" or why not, announced politely. */
export function LiveStatus({ status }: { status: { connected: boolean; reason?: string } }) {
  return (
    <span className="live" role="status" data-connected={status.connected}>
      {status.connected ? '● Live' : `○ ${status.reason ?? 'Connecting…'}`}
    </span>
  );
}
