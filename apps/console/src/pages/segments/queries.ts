import { useQuery } from '@tanstack/react-query';
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
