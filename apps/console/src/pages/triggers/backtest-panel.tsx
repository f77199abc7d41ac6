/** Placeholder until built: see the trigger page's tabs (pages/triggers). */
export function BacktestPanel({ triggerId }: { triggerId: string; draft?: string; version?: number }) {
  return <p className="muted">Not built yet ({triggerId}).</p>;
}
