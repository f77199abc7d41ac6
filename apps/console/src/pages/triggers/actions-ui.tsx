import { useId, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';

/** Sample customer ids as links to their pages. */
export function CustomerLinks({ ids, label }: { ids: readonly string[]; label: string }) {
  if (ids.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="actions-samples" aria-label={label}>
      {ids.map((c) => (
        <li key={c}>
          <Link to={`/customers/${encodeURIComponent(c)}`}>{c}</Link>
        </li>
      ))}
    </ul>
  );
}

/** From/To date inputs with a submit button (the period of a backtest or a dry-run). */
export function PeriodForm({
  from,
  to,
  onFrom,
  onTo,
  onSubmit,
  busy,
  submitLabel,
  children,
}: {
  from: string;
  to: string;
  onFrom(v: string): void;
  onTo(v: string): void;
  onSubmit(): void;
  busy: boolean;
  submitLabel: string;
  children?: ReactNode;
}) {
  const id = useId();
  return (
    <form
      className="actions-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-from`}>From</label>
        <input id={`${id}-from`} type="date" value={from} onChange={(e) => onFrom(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To</label>
        <input id={`${id}-to`} type="date" value={to} onChange={(e) => onTo(e.target.value)} required />
      </div>
      {children}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Running…' : submitLabel}
      </button>
    </form>
  );
}

/** A few headline numbers. */
export function Figures({ items, label }: { items: Array<[string, ReactNode]>; label: string }) {
  return (
    <ul className="actions-figures" aria-label={label}>
      {items.map(([name, value]) => (
        <li key={name}>
          <span className="figure">{value}</span>
          <span className="muted">{name}</span>
        </li>
      ))}
    </ul>
  );
}
