import { useRef, type KeyboardEvent } from 'react';
import { Route, Routes, useSearchParams } from 'react-router';
import { PageHeading } from '../../components/ui';
import { ConversationsSection } from './conversations';
import { StagesSection } from './stages';
import { TriggersSection } from './triggers';
import './analytics.css';

const SECTIONS = [
  { id: 'stages', label: 'Stages', render: () => <StagesSection /> },
  { id: 'triggers', label: 'Trigger performance', render: () => <TriggersSection /> },
  { id: 'conversations', label: 'Conversations', render: () => <ConversationsSection /> },
] as const;

/** The analytics area: stage funnel and transitions, trigger performance, conversation measures (tabs, `?section=`). */
export default function AnalyticsArea() {
  return (
    <Routes>
      <Route index element={<AnalyticsPage />} />
      <Route path="*" element={<AnalyticsPage />} />
    </Routes>
  );
}

function AnalyticsPage() {
  const [params, setParams] = useSearchParams();
  const current = SECTIONS.find((s) => s.id === params.get('section')) ?? SECTIONS[0];
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const select = (index: number, focus = false) => {
    const next = SECTIONS[(index + SECTIONS.length) % SECTIONS.length];
    setParams((p) => {
      const q = new URLSearchParams(p);
      q.set('section', next.id);
      return q;
    });
    if (focus) tabs.current[(index + SECTIONS.length) % SECTIONS.length]?.focus();
  };
  const onKey = (e: KeyboardEvent, index: number) => {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: SECTIONS.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      select(moves[e.key], true);
    }
  };
  return (
    <>
      <PageHeading>Analytics</PageHeading>
      <div role="tablist" aria-label="Analytics sections">
        {SECTIONS.map((s, i) => (
          <button
            key={s.id}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${s.id}`}
            aria-selected={s.id === current.id}
            aria-controls={`panel-${s.id}`}
            tabIndex={s.id === current.id ? 0 : -1}
            onClick={() => select(i)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current.id}`} aria-labelledby={`tab-${current.id}`} tabIndex={0} className="an-panel">
        {current.render()}
      </div>
    </>
  );
}
