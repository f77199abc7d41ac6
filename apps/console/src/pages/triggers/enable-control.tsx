/** Placeholder until built: enable/disable with a confirmation stating the impact. */
export function EnableControl({ triggerId, enabled }: { triggerId: string; enabled: boolean; onChanged(): void }) {
  return (
    <span className="muted">
      {triggerId} is {enabled ? 'enabled' : 'disabled'}
    </span>
  );
}
