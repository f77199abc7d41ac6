import { useQuery } from '@tanstack/react-query';
import type { Api } from '../../lib/api';
import { useApi } from '../../lib/session';

export interface SegmentSummary {
  id: string;
  name: string;
  version: number;
  removed: boolean;
  members: number;
}

/** GET /v1/segments: every segment with its members now. */
export function useSegments() {
  const api = useApi();
  return useQuery({
    queryKey: ['segments'],
    queryFn: () => api.get<{ segments: SegmentSummary[] }>('/v1/segments'),
  });
}

/**
 * GET /v1/segments/:id. Its ETag is the segment's version, which stays the same while the members change: without
 * `Cache-Control: no-cache` the browser revalidates with If-None-Match, the engine answers 304 and the page would keep
 * showing the member count it first read.
 */
export function getSegment<T>(api: Api, id: string): Promise<T> {
  return api.request<T>('GET', `/v1/segments/${encodeURIComponent(id)}`, { headers: { 'cache-control': 'no-cache' } });
}
