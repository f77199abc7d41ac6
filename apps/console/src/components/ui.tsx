import { useEffect, useId, useRef, type ReactNode } from 'react';
import { ApiError } from '../lib/api';
import { download, toCsv } from '../lib/csv';

/** An error where it happened, in words (role=alert: a screen reader says it). */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : '';
  return (
    <div role="alert" className="error">
      {title ? <strong>{title}: </strong> : null}
      {message}
      {status}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="muted">
      {label}
    </p>
  );
}

/** The page's h1, also the document title; focus moves to it on navigation so a screen reader announces the page. */
export function PageHeading({ children, actions }: { children: string; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${children} · Journey Engine`;
    ref.current?.focus({ preventScroll: true });
  }, [children]);
  return (
    <div className="page-heading">
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
      {actions ? <div className="actions">{actions}</div> : null}
    </div>
  );
}

/** A table of figures with its numbers downloadable as CSV. */
export function DataTable({
  caption,
  columns,
  rows,
  csvRows,
  filename,
}: {
  caption: string;
  columns: readonly string[];
  rows: readonly (readonly ReactNode[])[];
  /** Raw values for the CSV (defaults to rows when they are plain values). */
  csvRows?: readonly (readonly unknown[])[];
  filename?: string;
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption>
          {caption}{' '}
          <button
            type="button"
            className="link"
            onClick={() =>
              download(
                filename ?? `${caption.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.csv`,
                toCsv(columns, csvRows ?? rows.map((r) => r.map(plain))),
              )
            }
          >
            Download CSV
          </button>
        </caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="muted">
                Nothing yet.
              </td>
            </tr>
          ) : (
            rows.map((r, i) => (
              <tr key={i}>
                {r.map((cell, j) => (
                  <td key={j}>{cell}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

function plain(node: ReactNode): unknown {
  if (node === null || node === undefined || typeof node === 'boolean') return '';
  if (typeof node === 'string' || typeof node === 'number') return node;
  return '';
}

/** A confirmation dialog (native <dialog>: focus is trapped and Escape cancels). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal?.();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="dialog">
      <h2 id={titleId}>{title}</h2>
      <div>{children}</div>
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
