/**
 * The trigger page's actions in a browser: preview a step for a customer and test-send it to a test inbox (recorded
 * as a test), backtest over a period and open a sample customer, the dry-run impact, enable with a confirmation that
 * states the impact (refused by the workspace policy, then enabled anyway by an admin as an override), and the
 * statistics updating live when an event makes the trigger send. Seeded over HTTP only.
 *
 * The page at /triggers/:id mounts the panels in tabs named Preview, Backtest, Impact and Statistics, with Enable in
 * its heading.
 */
import type { Browser, Locator } from 'playwright-core';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, launchBrowser, replaceDocument, request, startConsoleEngine } from './browser';

const TRIGGER = 'welcome-tips';
const SIGNED_UP = ['ada', 'bob', 'cy'];
const DRAFT = `id: welcome-tips
name: Welcome tips
entry:
  event: Account Deleted
steps:
  - send: { channel: inbox, subject: "Welcome, {{ customer.traits.name }}", body: "Hi {{ customer.traits.name }}, here are tips." }
`;

describeBrowser('console: a trigger previewed, test-sent, backtested, its impact read, enabled and watched live', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;

  const api = (method: string, path: string, body?: unknown, auth = engine.auth.admin) => request(engine, method, path, { body, auth });
  const ingest = async (type: 'identify' | 'track', body: Record<string, unknown>) =>
    expect((await api('POST', `/v1/${type}`, body, engine.auth.write)).status).toBe(200);
  /** The visible tab panel of the trigger page, after choosing its tab. */
  async function openTab(name: string): Promise<Locator> {
    await tab.page.getByRole('tab', { name, exact: true }).click();
    const panel = tab.page.getByRole('tabpanel');
    await panel.getByRole('heading', { level: 2 }).first().waitFor();
    return panel;
  }
  const triggerPage = async () => {
    await tab.goto(`/triggers/${TRIGGER}`);
    await tab.page.getByRole('tab', { name: 'Preview', exact: true }).waitFor();
  };

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'trigger-actions');
    const trigger = {
      id: TRIGGER,
      name: 'Welcome tips',
      entry: { event: 'Signed Up' },
      steps: [
        {
          send: { channel: 'inbox', subject: 'Welcome, {{ customer.traits.name }}', body: 'Hi {{ customer.traits.name }}, here are tips.' },
        },
      ],
    };
    expect((await api('POST', '/v1/triggers', trigger)).status).toBe(201);
    // history while the trigger is disabled: three sign-ups today (nothing sent), for the backtest and the dry-run
    for (const id of SIGNED_UP) {
      await ingest('identify', { userId: id, traits: { name: id[0].toUpperCase() + id.slice(1) } });
      await ingest('track', { userId: id, event: 'Signed Up' });
    }
    // the workspace limits an enable to 2 messages a day: this trigger's busiest day would have 3
    expect((await api('PUT', '/v1/admin/workspace/settings', { policy: { maxDailyMessagesOnEnable: 2, period: '7d' } })).status).toBe(200);
    await eventually(async () => expect((await api('GET', '/v1/customers/cy')).status).toBe(200), 10_000);
  }, 60_000);

  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('previews a step for a customer and test-sends it to a test inbox, recorded as a test', async () => {
    await tab.signIn(engine.adminKey);
    await triggerPage();
    const panel = await openTab('Preview');
    await panel.getByLabel('Customer id', { exact: true }).fill('ada');
    await panel.getByLabel('Step', { exact: true }).selectOption('steps[0]');
    await panel.getByRole('button', { name: 'Preview', exact: true }).click();
    await panel
      .getByTestId('preview-subject')
      .filter({ hasText: /^Welcome, Ada$/ })
      .waitFor();
    await panel.getByTestId('preview-body').filter({ hasText: 'Hi Ada, here are tips.' }).waitFor();
    await panel.getByText('would be sent').waitFor();
    await panel
      .getByRole('table', { name: /Guard verdicts/ })
      .getByRole('cell', { name: 'consent', exact: true })
      .waitFor();
    await tab.check('preview');

    await panel.getByLabel('Test inbox (a test customer id)', { exact: true }).fill('qa-tester');
    await panel.getByRole('button', { name: 'Send test' }).click();
    await panel.getByTestId('test-send-recorded').filter({ hasText: 'Recorded as a test send: delivered' }).waitFor();
    const messageId = (await panel.locator('.notice code').first().textContent())!;
    expect(messageId).toMatch(/^test-/);
    await tab.check('preview-test-sent');
    // the engine has it in the test customer's inbox, not Ada's, and explains it as a test send
    const inbox = await api('GET', '/v1/customers/qa-tester/inbox');
    expect(JSON.stringify(inbox.body)).toContain(messageId);
    expect(JSON.stringify((await api('GET', '/v1/customers/ada/inbox')).body)).not.toContain(messageId);
    const explained = await api('GET', `/v1/messages/${messageId}/explain`);
    expect(explained.body.guards[0]).toMatchObject({ guard: 'test-send', verdict: 'passed' });
  }, 60_000);

  it('backtests over a period and opens a sample customer', async () => {
    await triggerPage();
    const panel = await openTab('Backtest');
    // the editor's draft is the stored definition: the backtest is of the saved version
    await panel.getByRole('heading', { name: 'Backtest version 1', level: 2 }).waitFor();
    // the default period is the last 30 days up to today
    const today = new Date().toISOString().slice(0, 10);
    await expect(panel.getByLabel('To', { exact: true }).inputValue()).resolves.toBe(today);
    await expect(panel.getByLabel('From', { exact: true }).inputValue()).resolves.toBe(
      new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10),
    );
    await panel.getByRole('button', { name: 'Run backtest' }).click();
    const reach = panel.getByRole('table', { name: /Reach per step/ });
    await reach.waitFor();
    // entered: the three sign-ups; the send step: three in-app messages
    const entry = reach.getByRole('row').filter({ hasText: 'Entered' });
    await expect(entry.getByRole('cell').nth(3).textContent()).resolves.toBe('3');
    const send = reach.getByRole('row').filter({ hasText: 'send inbox' });
    await expect(send.getByRole('cell').nth(4).textContent()).resolves.toBe('3');
    await panel.getByRole('img', { name: /Reach per step of welcome-tips version 1/ }).waitFor();
    await tab.check('backtest');

    // a period before the sign-ups reaches no one
    await panel.getByLabel('From', { exact: true }).fill('2020-01-01');
    await panel.getByLabel('To', { exact: true }).fill('2020-01-31');
    await panel.getByRole('button', { name: 'Run backtest' }).click();
    await panel.getByText(/Version 1, .*2020/).waitFor();
    await expect(entry.getByRole('cell').nth(3).textContent()).resolves.toBe('0');

    await panel.getByLabel('From', { exact: true }).fill(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    await panel.getByLabel('To', { exact: true }).fill(today);
    await panel.getByRole('button', { name: 'Run backtest' }).click();
    await panel.getByRole('list', { name: 'Sample customers of the backtest' }).getByRole('link', { name: 'bob' }).click();
    await tab.page.waitForURL(/\/customers\/bob$/);
    await tab.check('sample-customer');
  }, 60_000);

  it('shows the dry-run impact, then enables with a confirmation stating it: refused by the policy, an admin overrides', async () => {
    await triggerPage();
    const panel = await openTab('Impact');
    // the draft is the saved version of a disabled trigger: the impact is that of enabling it
    await panel.getByRole('heading', { name: 'Impact of enabling version 1', level: 2 }).waitFor();
    await panel.getByRole('button', { name: 'Run dry-run' }).click();
    const sentence = panel.getByTestId('impact-sentence');
    await sentence.waitFor();
    await expect(sentence.textContent()).resolves.toMatch(
      /^Enabling welcome-tips will send about 0\.4 messages a day \(busiest day 3, on \d{4}-\d\d-\d\d\) to 3 customers, judging by the last \d+ days\. Policy limit: 2 messages a day .* over the limit/,
    );
    await panel.getByRole('list', { name: 'Customers who start getting messages' }).getByRole('link', { name: 'ada' }).waitFor();
    await panel.getByRole('table', { name: /Messages per day/ }).waitFor();
    await tab.check('impact');

    const heading = tab.page.locator('.page-heading');
    await heading.getByRole('button', { name: 'Enable', exact: true }).click();
    const dialog = tab.page.getByRole('dialog', { name: `Enable ${TRIGGER}?` });
    await dialog.waitFor();
    await expect(dialog.getByTestId('enable-impact').textContent()).resolves.toMatch(
      /will send about 0\.4 messages a day .* to 3 customers.*Policy limit: 2 messages a day/,
    );
    await tab.check('enable-confirm');
    await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
    const refusal = tab.page.getByRole('alert').filter({ hasText: 'The workspace policy refused to enable' });
    await refusal.waitFor();
    await expect(refusal.textContent()).resolves.toMatch(/would send an estimated 3 messages a day .* more than the workspace limit of 2/);
    expect((await api('GET', `/v1/triggers/${TRIGGER}`)).body.enabled).toBe(false);
    await tab.check('enable-refused');

    await refusal.getByRole('button', { name: 'Enable anyway' }).click();
    await tab.page.getByRole('status').filter({ hasText: 'Enabled version 1 anyway' }).waitFor();
    await heading.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    expect((await api('GET', `/v1/triggers/${TRIGGER}`)).body).toMatchObject({ enabled: true, version: 1 });
    await tab.check('enabled');
  }, 60_000);

  it('updates the statistics live when an event makes the trigger send', async () => {
    await triggerPage();
    const panel = await openTab('Statistics');
    await panel.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const sent = panel.getByTestId('stats-sent');
    // nothing sent yet: the test send is never counted
    await sent.filter({ hasText: /^0$/ }).waitFor();
    await tab.check('statistics');

    await tab.page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await ingest('identify', { userId: 'dee', traits: { name: 'Dee' } });
    await ingest('track', { userId: 'dee', event: 'Signed Up' });
    await sent.filter({ hasText: /^1$/ }).waitFor({ timeout: 20_000 });
    const steps = panel.getByRole('table', { name: /Per version and step/ });
    await steps.getByRole('row').filter({ hasText: 'send' }).first().waitFor();
    await expect(tab.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    await tab.check('statistics-live');
  }, 60_000);

  it('dry-runs and backtests a draft in the editor against the live version, saving nothing', async () => {
    await triggerPage();
    await tab.page.getByRole('tab', { name: 'Definition', exact: true }).click();
    // the draft starts the trigger on an event no one sends: everyone the live version messages stops getting it
    await replaceDocument(tab.page, DRAFT);
    await tab.page.getByText('The engine accepts this document.').waitFor();

    const impact = await openTab('Impact');
    await impact.getByRole('heading', { name: 'Impact of saving the draft', level: 2 }).waitFor();
    await impact.getByRole('button', { name: 'Run dry-run' }).click();
    const sentence = impact.getByTestId('impact-sentence');
    await sentence.waitFor();
    await expect(sentence.textContent()).resolves.toMatch(
      /^Saving this version of welcome-tips will send about 0 messages a day to 0 customers, judging by the last \d+ days; compared with the live version 1, 0 start and 4 stop getting messages\./,
    );
    const stops = impact.getByRole('list', { name: 'Customers who stop getting messages' });
    await expect(stops.getByRole('link').allTextContents()).resolves.toEqual(expect.arrayContaining(['ada', 'bob', 'cy', 'dee']));
    await tab.check('impact-draft');

    const backtest = await openTab('Backtest');
    await backtest.getByRole('heading', { name: 'Backtest the draft', level: 2 }).waitFor();
    await backtest.getByRole('button', { name: 'Run backtest' }).click();
    const entry = backtest
      .getByRole('table', { name: /Reach per step/ })
      .getByRole('row')
      .filter({ hasText: 'Entered' });
    await expect(entry.getByRole('cell').nth(3).textContent()).resolves.toBe('0');

    // nothing was saved: version 1 is still the live one
    expect((await api('GET', `/v1/triggers/${TRIGGER}`)).body).toMatchObject({ enabled: true, version: 1 });
  }, 60_000);
});
