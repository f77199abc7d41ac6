import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { useApi, useCan } from '../../lib/session';
import { BacktestPanel } from './backtest-panel';
import { draftChanges } from './actions-logic';
import { DefinitionTab } from './definition-tab';
import { DiagramTab } from './diagram-tab';
import { NEW_TRIGGER, toYaml } from './document';
import { EnableControl } from './enable-control';
import { ImpactPanel } from './impact-panel';
import type { TriggerDetail } from './model';
import { PreviewPanel } from './preview-panel';
import { StatsPanel } from './stats-panel';
import { Tabs, type TabDef } from './tabs';
import { VersionsTab } from './versions-tab';

const TABS: readonly TabDef[] = [
  { id: 'definition', label: 'Definition' },
  { id: 'diagram', label: 'Diagram' },
  { id: 'preview', label: 'Preview' },
  { id: 'backtest', label: 'Backtest' },
  { id: 'impact', label: 'Impact' },
  { id: 'statistics', label: 'Statistics' },
  { id: 'versions', label: 'Versions' },
];
const NEW_TABS = TABS.filter((t) => t.id === 'definition' || t.id === 'diagram');

function useTab(tabs: readonly TabDef[]): [string, (id: string) => void] {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? tabs[0].id;
  return [
    tabs.some((t) => t.id === tab) ? tab : tabs[0].id,
    (id) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (id === tabs[0].id) next.delete('tab');
          else next.set('tab', id);
          return next;
        },
        { replace: true },
      ),
  ];
}

/** `/triggers/new`: a new trigger's document, saved as version 1 (disabled). */
export function NewTriggerPage() {
  const canEdit = useCan('editTriggers');
  const [draft, setDraft] = useState(NEW_TRIGGER);
  const [tab, setTab] = useTab(NEW_TABS);
  if (!canEdit)
    return (
      <>
        <PageHeading>New trigger</PageHeading>
        <p>
          This key may read triggers, not define them. <Link to="/triggers">Back to the triggers</Link>.
        </p>
      </>
    );
  return (
    <>
      <PageHeading>New trigger</PageHeading>
      <p>
        <Link to="/triggers">All triggers</Link>
      </p>
      <Tabs label="New trigger" tabs={NEW_TABS} selected={tab} onSelect={setTab}>
        {tab === 'diagram' ? (
          <DiagramTab draft={draft} />
        ) : (
          <DefinitionTab draft={draft} onDraft={setDraft} onSaved={() => {}} onReloadLatest={() => {}} />
        )}
      </Tabs>
    </>
  );
}

/** `/triggers/:id`: the trigger's tabs, its enable control in the heading. */
export function TriggerPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const location = useLocation();
  const [tab, setTab] = useTab(TABS);
  const detail = useQuery({
    queryKey: ['trigger', id],
    queryFn: () => api.get<TriggerDetail>(`/v1/triggers/${encodeURIComponent(id)}`),
  });
  if (detail.error)
    return (
      <>
        <PageHeading>{`Trigger ${id}`}</PageHeading>
        <ErrorMessage error={detail.error} title={`Could not load trigger ${id}`} />
        <p>
          <Link to="/triggers">All triggers</Link>
        </p>
      </>
    );
  if (!detail.data) return <Loading label={`Loading trigger ${id}…`} />;
  const carried = (location.state as { draft?: string } | null)?.draft;
  return <TriggerView key={id} detail={detail.data} initialDraft={carried ?? toYaml(detail.data.definition)} tab={tab} setTab={setTab} />;
}

function TriggerView({
  detail: t,
  initialDraft,
  tab,
  setTab,
}: {
  detail: TriggerDetail;
  initialDraft: string;
  tab: string;
  setTab(id: string): void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const id = t.id;
  // the draft: what the person typed (kept across tabs), based on a version
  const [draft, setDraft] = useState(initialDraft);
  const [base, setBase] = useState(t.version);
  /** The text last loaded or saved: unsaved changes are what differs from it. */
  const [savedText, setSavedText] = useState(initialDraft);
  const saved = toYaml(t.definition);
  // the backtest and the impact take the draft only when it changes the stored definition, else the saved version
  const changes = draftChanges(draft, t.definition) ? draft : undefined;
  useWarnOnLeave(draft !== savedText);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['trigger', id] });
  const reloadLatest = async () => {
    const latest = await queryClient.fetchQuery({
      queryKey: ['trigger', id],
      queryFn: () => api.get<TriggerDetail>(`/v1/triggers/${encodeURIComponent(id)}`),
      staleTime: 0,
    });
    setBase(latest.version);
    setDraft(toYaml(latest.definition));
    setSavedText(toYaml(latest.definition));
  };
  return (
    <>
      <PageHeading actions={<EnableControl triggerId={t.id} enabled={t.enabled} onChanged={refresh} />}>{t.name || t.id}</PageHeading>
      <p className="muted">
        <Link to="/triggers">All triggers</Link> · <code>{t.id}</code> · version {t.version} · {t.enabled ? 'enabled' : 'disabled'}
        {draft !== savedText ? ' · unsaved changes' : ''}
      </p>
      <Tabs label={`Trigger ${t.name || t.id}`} tabs={TABS} selected={tab} onSelect={setTab}>
        {tab === 'definition' ? (
          <DefinitionTab
            triggerId={t.id}
            baseVersion={base}
            enabled={t.enabled}
            draft={draft}
            onDraft={setDraft}
            onSaved={(change, text) => {
              setBase(change.version);
              setSavedText(text);
              refresh();
            }}
            onReloadLatest={() => void reloadLatest()}
          />
        ) : tab === 'diagram' ? (
          <DiagramTab draft={draft} saved={saved} />
        ) : tab === 'preview' ? (
          <PreviewPanel triggerId={t.id} version={t.version} />
        ) : tab === 'backtest' ? (
          <BacktestPanel triggerId={t.id} draft={changes} version={t.version} />
        ) : tab === 'impact' ? (
          <ImpactPanel triggerId={t.id} draft={changes} version={t.version} enabled={t.enabled} />
        ) : tab === 'statistics' ? (
          <StatsPanel triggerId={t.id} />
        ) : (
          <VersionsTab triggerId={t.id} versions={t.versions} />
        )}
      </Tabs>
    </>
  );
}

/** While there are unsaved changes, closing or reloading the tab asks first (the browser's own prompt). */
function useWarnOnLeave(dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
}
