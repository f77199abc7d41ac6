import { useRef, type KeyboardEvent } from 'react';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { PageHeading } from '../../components/ui';
import './admin.css';
import { KeysPanel } from './keys-panel';
import { SettingsPanel } from './settings-panel';
import { TeamsPanel } from './teams-panel';

const TABS = [
  { path: 'keys', label: 'Keys', element: <KeysPanel /> },
  { path: 'teams', label: 'Teams and members', element: <TeamsPanel /> },
  { path: 'settings', label: 'Workspace settings', element: <SettingsPanel /> },
] as const;

/** The admin area (admin keys only: the shell guards it): keys, teams and members, workspace settings, one tab each. */
export default function AdminArea() {
  return (
    <Routes>
      <Route index element={<Navigate to="keys" replace />} />
      {TABS.map((t) => (
        <Route key={t.path} path={t.path} element={<AdminTabs current={t.path} />} />
      ))}
      <Route path="*" element={<Navigate to="keys" replace />} />
    </Routes>
  );
}

function AdminTabs({ current }: { current: (typeof TABS)[number]['path'] }) {
  const navigate = useNavigate();
  const location = useLocation();
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const index = TABS.findIndex((t) => t.path === current);
  const go = (i: number, focus: boolean) => {
    const t = TABS[(i + TABS.length) % TABS.length];
    if (t.path !== current) void navigate(`/admin/${t.path}`, { state: location.state });
    if (focus) refs.current[t.path]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      go(moves[e.key], true);
    }
  };
  const tab = TABS[index];
  return (
    <>
      <PageHeading>Admin</PageHeading>
      <div role="tablist" aria-label="Admin sections" onKeyDown={onKeyDown}>
        {TABS.map((t, i) => (
          <button
            key={t.path}
            ref={(el) => {
              refs.current[t.path] = el;
            }}
            type="button"
            role="tab"
            id={`admin-tab-${t.path}`}
            aria-selected={t.path === current}
            aria-controls="admin-panel"
            tabIndex={t.path === current ? 0 : -1}
            onClick={() => go(i, false)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="admin-panel" aria-labelledby={`admin-tab-${tab.path}`} className="admin-panel">
        {tab.element}
      </div>
    </>
  );
}
