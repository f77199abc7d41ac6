import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { formatTime } from '../../lib/format';
import {
  asOfAt,
  kindLabel,
  kindTone,
  messageIdOf,
  parseTypedTime,
  sliderPositions,
  sliderValue,
  timelineRows,
  type TimeBounds,
  type TimelineEntry,
} from './logic';

/**
 * The as-of control: a range over the customer's first → last recorded event time and a date-time box. At the far
 * right the timeline is live (now); anywhere else it is the timeline as the engine had recorded it then. Give it a
 * `key` of the asOf and the bounds: it starts again from them when they change.
 */
export function AsOfControl({
  bounds,
  asOf,
  onChange,
}: {
  bounds: TimeBounds;
  asOf: string | undefined;
  onChange(asOf: string | undefined): void;
}) {
  const positions = sliderPositions(bounds);
  const [value, setValue] = useState(() => sliderValue(bounds, asOf));
  const [text, setText] = useState(asOf ?? '');
  const [error, setError] = useState<string>();
  const pending = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  // the slider asks once it rests (a drag does not ask at every step)
  const slide = (position: number) => {
    setValue(position);
    clearTimeout(pending.current);
    pending.current = setTimeout(() => onChange(asOfAt(bounds, position)), 200);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) {
      setError(undefined);
      onChange(undefined);
      return;
    }
    const parsed = parseTypedTime(text);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    onChange(Date.parse(parsed.iso) >= bounds.last ? undefined : parsed.iso);
  };
  const shown = asOfAt(bounds, value);
  return (
    <form className="asof" onSubmit={submit} aria-label="As of">
      <label className="field asof-slider">
        As of (slide back through the customer&apos;s history)
        <input
          type="range"
          min={0}
          max={positions}
          step={1}
          value={value}
          aria-valuetext={shown ? formatTime(shown) : 'Now (live)'}
          onChange={(e) => slide(Number(e.target.value))}
        />
      </label>
      <div className="row">
        <label className="field">
          As of date-time (ISO 8601, UTC)
          <input value={text} placeholder="now" onChange={(e) => setText(e.target.value)} aria-invalid={error ? true : undefined} />
        </label>
        <button type="submit">Show as of</button>
        <button type="button" onClick={() => onChange(undefined)} disabled={asOf === undefined}>
          Back to now
        </button>
      </div>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <p className="muted" role="status">
        {asOf ? `As the engine knew it on ${formatTime(asOf)} (${asOf})` : 'Now, live'} · history from{' '}
        {formatTime(new Date(bounds.first).toISOString())} to {formatTime(new Date(bounds.last).toISOString())}
      </p>
    </form>
  );
}

/** The timeline, newest first, virtualised (rows measured: a row's details may wrap). */
export function TimelineList({ customerId, entries, explainable }: { customerId: string; entries: TimelineEntry[]; explainable: boolean }) {
  const rows = useMemo(() => timelineRows(entries), [entries]);
  const scroller = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualiser is read during render only
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => (rows[i]?.type === 'day' ? 30 : 52),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 12,
  });
  return (
    <div ref={scroller} className="virtual timeline-scroll" tabIndex={0} role="region" aria-label="Timeline, scrollable">
      <div role="list" aria-label="Timeline" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((v) => {
          const row = rows[v.index];
          const style = { position: 'absolute' as const, top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` };
          if (row.type === 'day')
            return (
              <div key={v.key} role="listitem" ref={virtualizer.measureElement} data-index={v.index} className="timeline-day" style={style}>
                {row.label}
              </div>
            );
          const e = row.entry;
          const messageId = messageIdOf(e);
          return (
            <div
              key={v.key}
              role="listitem"
              ref={virtualizer.measureElement}
              data-index={v.index}
              className="timeline-entry"
              style={style}
              aria-setsize={entries.length}
            >
              <time dateTime={e.occurredAt} className="muted">
                {new Date(e.occurredAt).toLocaleTimeString('en-GB', { timeZone: 'UTC' })} UTC
              </time>
              <span className={`badge ${kindTone(e.kind)}`}>{kindLabel(e.kind)}</span>
              <span className="summary">{e.summary}</span>
              {messageId && explainable ? (
                <Link to={`/customers/${encodeURIComponent(customerId)}/messages/${encodeURIComponent(messageId)}`}>
                  Explain<span className="visually-hidden"> message {messageId}</span>
                </Link>
              ) : null}
            </div>
          );
        })}
      </div>
      {rows.length === 0 ? <p className="muted">Nothing recorded by then.</p> : null}
    </div>
  );
}
