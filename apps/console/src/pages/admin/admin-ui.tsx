import { useState, type ReactNode } from 'react';
import type { NewKey } from './keys';

/** What a field's control needs to be named, described and marked invalid. */
export interface ControlProps {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/** A labelled field with its hint and its error beside it (the control gets aria-invalid and aria-describedby). */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  children: (props: ControlProps) => ReactNode;
}) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(error && { 'aria-invalid': true as const }), ...(described && { 'aria-describedby': described }) })}
      {hint ? (
        <span id={`${id}-hint`} className="muted">
          {hint}
        </span>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A key in clear, shown this once, with a copy button: only its hash is kept, so nobody can show it again. */
export function NewKeyNotice({ created, onDone }: { created: NewKey; onDone(): void }) {
  const [copied, setCopied] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied to the clipboard.');
    } catch {
      const input = document.getElementById('new-key-value') as HTMLInputElement | null;
      input?.select();
      setCopied('The browser refused the clipboard: the key is selected, copy it with Ctrl+C (⌘C).');
    }
  };
  return (
    <section className="new-key" aria-labelledby="new-key-title">
      <h2 id="new-key-title">
        {created.replaces ? 'New key for' : 'Key created:'} {created.name}
      </h2>
      <p>
        <strong>Copy this key now: you will not see it again.</strong> The engine keeps only its hash.
        {created.replaces ? ' The old key no longer works.' : ''}
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor="new-key-value">New key</label>
          <input id="new-key-value" className="mono" readOnly value={created.key} onFocus={(e) => e.currentTarget.select()} />
        </div>
        <button type="button" className="primary" onClick={() => void copy()}>
          Copy key
        </button>
        <button type="button" onClick={onDone}>
          Done, I have copied it
        </button>
      </div>
      <p role="status">{copied}</p>
    </section>
  );
}
