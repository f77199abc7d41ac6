import { readFileSync } from 'node:fs';
import type { Browser, Locator } from 'playwright-core';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import type { TestEngine } from '../e2e/support';
import { call, ConsoleTab, describeBrowser, launchBrowser, startConsoleEngine } from './browser';

interface StageAnswer {
  customersPerStage: Record<string, number>;
  transitions: { day: string; from: string | null; to: string; count: number }[];
}
interface Step {
  scheduled: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
}
interface Group {
  runs: number;
  converted: number;
  conversionRate: number | null;
}
interface TriggerAnswer {
  triggers: {
    triggerId: string;
    version: number;
    runs: number;
    converted: number;
    holdout: Group;
    steps: Step[];
    lift: { live: { holdout: Group; treated: Group & { lift: number | null } } | null } | null;
  }[];
}
interface ConversationAnswer {
  overall: { conversations: number; resolutionSeconds: { count: number }; automation: { resolved: number; automated: number } };
}

const TRIGGER = {
  id: 'upgrade-nudge',
  name: 'Upgrade nudge',
  entry: { event: 'Signed Up' },
  exit: [{ when: { event: 'Activated' }, reason: 'converted' }],
  steps: [
    {
      split: {
        holdout: 50,
        variants: [
          { name: 'inbox', weight: 1, steps: [{ send: { channel: 'inbox', body: 'Try the pro plan' } }, { wait: { duration: '2d' } }] },
        ],
      },
    },
  ],
};
const CUSTOMERS = Array.from({ length: 12 }, (_, i) => `c${i}`);
/** Every third activates (onboarding → active, and the trigger's goal); c1 cancels (→ churned). */
const ACTIVATES = CUSTOMERS.filter((_, i) => i % 3 === 0);

/**
 * Analytics in the console against figures seeded through the API: customers moving through stages, a trigger with a
 * holdout that sends, a conversation resolved. Each section shows what the API answers; a CSV download carries it.
 */
describeBrowser('console: analytics', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;

  const api = <T = any>(method: string, path: string, body?: unknown, auth = engine.auth.admin) =>
    call<T>(engine, method, path, { body, auth });

  const track = (userId: string, event: string) => api('POST', '/v1/track', { userId, event }, engine.auth.write);

  /** Clicks a table's "Download CSV" and answers the file's text. */
  const downloadCsv = async (table: Locator): Promise<string> => {
    const [download] = await Promise.all([tab.page.waitForEvent('download'), table.getByRole('button', { name: 'Download CSV' }).click()]);
    return readFileSync((await download.path())!, 'utf8');
  };

  let stages: StageAnswer;
  let triggers: TriggerAnswer;
  let conversations: ConversationAnswer;

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'analytics');

    await api('POST', '/v1/triggers', TRIGGER);
    await api('POST', '/v1/triggers/upgrade-nudge/enable');
    for (const c of CUSTOMERS) {
      await api('POST', '/v1/identify', { userId: c, traits: { name: c.toUpperCase() } }, engine.auth.write);
      await track(c, 'Signed Up');
    }
    for (const c of ACTIVATES) await track(c, 'Activated');
    await track('c1', 'Subscription Cancelled');
    const started = await api<{ conversationId: string }>('POST', '/v1/customers/c2/conversations', { body: 'How is it going?' });
    await api('POST', `/v1/customers/c2/conversations/${started.conversationId}/resolve`);

    // the figures settle: every run started, every treated run's message delivered, the stages moved, the resolution counted
    await eventually(
      async () => {
        stages = await api<StageAnswer>('GET', '/v1/analytics/stages');
        expect(stages.customersPerStage).toMatchObject({ onboarding: 7, active: 4, churned: 1 });
        triggers = await api<TriggerAnswer>('GET', '/v1/analytics/triggers');
        const [t] = triggers.triggers;
        expect(t.runs).toBe(12);
        const delivered = t.steps.reduce((n, s) => n + s.delivered, 0);
        expect(delivered).toBe(t.runs - t.holdout.runs);
        expect(t.lift?.live?.treated.runs).toBe(t.runs - t.holdout.runs);
        conversations = await api<ConversationAnswer>('GET', '/v1/analytics/conversations');
        expect(conversations.overall.resolutionSeconds.count).toBe(1);
      },
      30_000,
      200,
    );
  }, 90_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('shows the stage funnel and the transitions as the API counts them, and downloads them as CSV', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Analytics' }).click();
    await page.getByRole('heading', { level: 1, name: 'Analytics' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Stages' }).getAttribute('aria-selected')).toBe('true');
    const funnel = page.getByRole('table', { name: /^Customers per stage/ });
    for (const stage of ['onboarding', 'active', 'at-risk', 'renewal', 'churned'])
      await funnel.getByRole('row', { name: `${stage} ${stages.customersPerStage[stage]}`, exact: true }).waitFor();
    await page
      .getByRole('img', { name: /^Customers per stage now, 12 in all: onboarding 7, active 4, at-risk 0, renewal 0, churned 1\.$/ })
      .waitFor();
    const transitions = page.getByRole('table', { name: /^Stage transitions per day/ });
    for (const t of stages.transitions)
      await transitions.getByRole('row', { name: `${t.day} ${t.from ?? 'first seen'} ${t.to} ${t.count}`, exact: true }).waitFor();
    expect(stages.transitions.find((t) => t.from === 'onboarding' && t.to === 'active')?.count).toBe(4);
    await page.getByRole('img', { name: /Stage transitions per day from .*onboarding → active 4/ }).waitFor();
    await tab.check('stages');

    const csv = await downloadCsv(funnel);
    expect(csv).toBe(
      [
        'Stage,Customers',
        ...['onboarding', 'active', 'at-risk', 'renewal', 'churned'].map((s) => `${s},${stages.customersPerStage[s]}`),
        '',
      ].join('\r\n'),
    );
  });

  it('shows trigger performance and lift vs the holdout as the API counts them, as of a day too (keyboard to the tab)', async () => {
    const page = tab.page;
    await page.getByRole('tab', { name: 'Stages' }).focus();
    await page.keyboard.press('ArrowRight');
    const selected = page.getByRole('tab', { name: 'Trigger performance' });
    await page.getByRole('tab', { name: 'Trigger performance', selected: true }).waitFor();
    await expect(selected.evaluate((el) => el === document.activeElement)).resolves.toBe(true);

    const [t] = triggers.triggers;
    const sum = (k: keyof Step) => t.steps.reduce((n, s) => n + s[k], 0);
    const treated = t.runs - t.holdout.runs;
    expect(treated).toBeGreaterThan(0);
    expect(sum('sent')).toBe(treated);
    const perf = page.getByRole('table', { name: /^Trigger performance per version/ });
    await perf
      .getByRole('row', {
        name: new RegExp(
          `^upgrade-nudge 1 12 ${sum('scheduled')} ${sum('sent')} ${sum('delivered')} ${sum('opened')} ${sum('clicked')} 0 0 none ${t.converted} `,
        ),
      })
      .waitFor();
    const live = t.lift!.live!;
    const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
    const lift = page.getByRole('table', { name: /^Lift per variant/ });
    await lift
      .getByRole('row', {
        name: new RegExp(
          `^upgrade-nudge 1 live all variants ${live.treated.runs} ${live.treated.converted} ${pct(live.treated.conversionRate).replace('.', '\\.')} .* ${live.holdout.runs} ${live.holdout.converted} ${pct(live.holdout.conversionRate).replace('.', '\\.')} `,
        ),
      })
      .waitFor();
    await page
      .getByRole('img', {
        name: new RegExp(`^Trigger messages per version: upgrade-nudge v1 sent ${sum('sent')}, delivered ${sum('delivered')}`),
      })
      .waitFor();
    await page.getByRole('img', { name: /^Conversion, treated vs holdout: upgrade-nudge v1 · all variants/ }).waitFor();
    await tab.check('triggers');

    const csv = await downloadCsv(lift);
    const [header, allVariants] = csv.split('\r\n');
    expect(header.split(',').slice(0, 7)).toEqual(['Trigger', 'Version', 'Mode', 'Variant', 'Runs', 'Converted', 'Conversion']);
    expect(allVariants.split(',').slice(0, 7)).toEqual([
      'upgrade-nudge',
      '1',
      'live',
      'all variants',
      String(live.treated.runs),
      String(live.treated.converted),
      String(live.treated.conversionRate ?? ''),
    ]);

    // as of yesterday nothing was assigned yet: the API and the page agree
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const before = await api<TriggerAnswer>('GET', `/v1/analytics/triggers?asOf=${yesterday}`);
    expect(before.triggers[0].lift?.live?.treated.runs ?? 0).toBe(0);
    await page.getByLabel('Lift as of (UTC day)').fill(yesterday);
    await page.getByRole('table', { name: new RegExp(`^Lift per variant as of ${yesterday}`) }).waitFor();
    const asOfRows = page.getByRole('table', { name: new RegExp(`^Lift per variant as of ${yesterday}`) }).getByRole('row');
    if (before.triggers[0].lift?.live) await asOfRows.filter({ hasText: 'all variants' }).first().waitFor();
    else await asOfRows.filter({ hasText: 'Nothing yet.' }).waitFor();
    await tab.check('triggers-as-of');
  });

  it('shows the conversation measures as the API answers them', async () => {
    const page = tab.page;
    await page.getByRole('tab', { name: 'Conversations' }).click();
    const cards = page.getByRole('list', { name: 'Conversation measures' });
    await cards
      .getByRole('listitem')
      .filter({ hasText: `Conversations${conversations.overall.conversations}` })
      .waitFor();
    expect(conversations.overall.conversations).toBe(1);
    const a = conversations.overall.automation;
    await cards
      .getByRole('listitem')
      .filter({ hasText: `${a.automated} of ${a.resolved} resolved` })
      .waitFor();
    const table = page.getByRole('table', { name: /^Conversation measures/ });
    await table.getByRole('row', { name: /^All 1 / }).waitFor();
    await page.getByRole('img', { name: /^Conversation rates, 1 conversation in all/ }).waitFor();
    await tab.check('conversations');

    await page.getByLabel('Group by').selectOption('channel');
    await page
      .getByRole('table', { name: /by channel/ })
      .getByRole('row', { name: /^inbox 1 / })
      .waitFor();
    const csv = await downloadCsv(page.getByRole('table', { name: /by channel/ }));
    expect(csv.split('\r\n').map((l) => l.split(',').slice(0, 2))).toEqual([
      ['Group', 'Conversations'],
      ['All', '1'],
      ['inbox', '1'],
      [''],
    ]);
    await tab.check('conversations-by-channel');
  });
});
