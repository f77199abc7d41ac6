import type { ReactNode } from 'react';

/** Categorical colours with AA contrast on white (3:1 for graphics). */
export const SERIES = ['#0b5cad', '#a4161a', '#1a6b35', '#8a5300', '#6f42c1', '#00707a', '#b3266f', '#54606b'];

/** A chart's accessible wrapper: role=img with a summary of what it shows (its numbers are in the table beside it). */
export function Chart({ label, height = 260, children }: { label: string; height?: number; children: ReactNode }) {
  return (
    <div role="img" aria-label={label} className="chart" style={{ height }}>
      {children}
    </div>
  );
}
