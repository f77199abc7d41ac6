/**
 * The console's customers area in a browser, on the README walk-through: the activation nudge (`absent: Activated for
 * 2s after CustomerIdentified` → an inbox message) deployed and enabled over the admin API; Ada signs up and activates,
 * Bob signs up and does nothing (so he gets the nudge), Cara is another pro customer. Then in the console: search by id
 * prefix and by a trait, Bob's page and timeline, the as-of slider moved back (fewer events), an event tracked while
 * the page is open appearing live, the message's explain page (trigger version, guard verdicts), why-not for Ada.
 */
import type { Browser } from 'playwright-core';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, expectNudgeExplained, launchBrowser, request, startConsoleEngine, until } from './browser';

describeBrowser('console: customers, the as-of timeline, explain and why-not', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;
  let bobsMessage: string;

  const api = (method: string, path: string, body?: unknown, auth = engine.auth.admin) => request(engine, method, path, { body, auth });
  const send = async (path: string, body: unknown) => expect((await api('POST', path, body, engine.auth.write)).status).toBe(200);

  beforeAll(async () => {
    engine = await startConsoleEngine();
    const trigger = {
      id: 'walkthrough-nudge',
      name: 'Activation nudge (walk-through)',
      entry: { absent: { event: 'Activated', for: '2s', after: { event: 'CustomerIdentified' } } },
      steps: [
        {
          send: {
            channel: 'inbox',
            subject: 'Need a hand, {{ customer.traits.name }}?',
            body: 'Most teams activate by creating a project. Reply and we will help.',
          },
        },
      ],
    };
    expect((await api('POST', '/v1/triggers', trigger)).status).toBe(201);
    expect((await api('POST', '/v1/triggers/walkthrough-nudge/enable')).status).toBe(200);
    await send('/v1/identify', { userId: 'ada', traits: { name: 'Ada', email: 'ada@example.com', plan: 'pro' } });
    await send('/v1/track', { userId: 'ada', event: 'Activated' });
    await send('/v1/identify', { userId: 'bob', traits: { name: 'Bob', plan: 'starter' } });
    await send('/v1/track', { userId: 'bob', event: 'Report Viewed', properties: { report: 'weekly' } });
    await send('/v1/identify', { userId: 'cara', traits: { name: 'Cara', plan: 'pro' } });
    await send('/v1/track', { userId: 'cara', event: 'Activated' });
    // Bob's durable timer fires after 2 s: the nudge reaches his inbox
    bobsMessage = await eventually(async () => {
      const inbox = await api('GET', '/v1/customers/bob/inbox');
      expect(inbox.body.messages).toHaveLength(1);
      return inbox.body.messages[0].messageId as string;
    }, 20_000);
    // the search index has all three
    await eventually(async () => expect((await api('GET', '/v1/customers?count=true')).body.total).toBe(3), 10_000);
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'customers');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  const customerLinks = () => tab.page.getByRole('table', { name: 'Customers' }).getByRole('link');

  it('searches by id prefix and by a trait, the filters in the URL', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
    await until(
      () => customerLinks().allTextContents(),
      (v) => expect(v).toEqual(['ada', 'bob', 'cara']),
    );
    await page.getByRole('status').filter({ hasText: '3 customers' }).waitFor();
    await tab.check('customers');

    await page.getByLabel('Id starts with').fill('b');
    await page.getByRole('button', { name: 'Search' }).click();
    await until(
      () => customerLinks().allTextContents(),
      (v) => expect(v).toEqual(['bob']),
    );
    expect(new URL(page.url()).searchParams.get('idPrefix')).toBe('b');
    await tab.check('customers-id-prefix');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByRole('button', { name: 'Add a trait filter' }).click();
    await page.getByLabel('Trait 1 name').fill('plan');
    await page.getByLabel('Trait 1 value').fill('pro');
    await page.getByRole('button', { name: 'Search' }).click();
    await until(
      () => customerLinks().allTextContents(),
      (v) => expect(v).toEqual(['ada', 'cara']),
    );
    expect(new URL(page.url()).searchParams.get('trait.plan')).toBe('pro');
    // the URL holds the search: a reload shows the same
    await page.reload();
    await until(
      () => customerLinks().allTextContents(),
      (v) => expect(v).toEqual(['ada', 'cara']),
    );
    await expect(page.getByLabel('Trait 1 value').inputValue()).resolves.toBe('pro');
    await tab.check('customers-trait');
  });

  it("shows Bob's timeline, as of an earlier moment, and a new event live", async () => {
    const page = tab.page;
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await customerLinks().getByText('bob', { exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Customer bob' }).waitFor();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('Tracked "Report Viewed"').waitFor();
    await page.getByRole('status').filter({ hasText: '● Live' }).waitFor();
    const count = page.getByRole('status').filter({ hasText: /^\d+ events?/ });
    const events = async () => Number(/^(\d+)/.exec((await count.textContent()) ?? '')?.[1]);
    const all = await events();
    expect(all).toBeGreaterThan(3);
    await page
      .getByRole('region', { name: 'Upcoming' })
      .getByText(/Pending timers until/)
      .waitFor();
    await page.getByRole('heading', { level: 2, name: 'Inbox' }).waitFor();
    await page
      .getByRole('table', { name: /In-app messages/ })
      .getByRole('cell', { name: 'Need a hand, Bob?', exact: true })
      .waitFor();
    await tab.check('customer-bob');

    // the slider at its start: the timeline as the engine knew it at Bob's first event
    const slider = page.getByRole('slider', { name: /As of/ });
    await slider.focus();
    await page.keyboard.press('Home');
    await until(
      () => new URL(page.url()).searchParams.get('asOf'),
      (v) => expect(v).not.toBeNull(),
    );
    await page
      .getByRole('status')
      .filter({ hasText: /events? as of/ })
      .waitFor();
    const then = await events();
    expect(then).toBeGreaterThan(0);
    expect(then).toBeLessThan(all);
    await expect(timeline.getByText('Tracked "Report Viewed"').count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { level: 2, name: 'State as of then' }).count()).resolves.toBe(1);
    await tab.check('customer-bob-as-of');

    // a typed time that is not one is refused in words
    await page.getByLabel('As of date-time (ISO 8601, UTC)').fill('last tuesday');
    await page.getByRole('button', { name: 'Show as of' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'not a date-time' }).count()).resolves.toBe(1);

    await page.getByRole('button', { name: 'Back to now' }).click();
    await until(events, (v) => expect(v).toBe(all));
    expect(new URL(page.url()).searchParams.get('asOf')).toBeNull();

    // tracked while the page is open: it appears without a reload
    await send('/v1/track', { userId: 'bob', event: 'Invoice Paid' });
    await timeline.getByText('Tracked "Invoice Paid"').waitFor();
    await until(events, (v) => expect(v).toBe(all + 1));
    await tab.check('customer-bob-live');
  });

  it("opens the message's explain page: trigger version and every guard's verdict", async () => {
    const page = tab.page;
    await page
      .getByRole('table', { name: /In-app messages/ })
      .getByRole('link', { name: /Explain/ })
      .click();
    await expectNudgeExplained(page, bobsMessage);
    await tab.check('explain');
  });

  it('answers why Ada did not get the nudge, with the events it looked at', async () => {
    const page = tab.page;
    await tab.goto('/customers/ada');
    await page.getByRole('heading', { level: 1, name: 'Customer ada' }).waitFor();
    await page.getByLabel('Trigger', { exact: true }).selectOption('walkthrough-nudge');
    await page.getByRole('button', { name: 'Ask why not' }).click();
    const answer = page.locator('.why-not-answer');
    await answer.getByText(/Kept out/).waitFor();
    const reason = await api('GET', '/v1/customers/ada/why-not?trigger=walkthrough-nudge');
    expect(reason.body.got).toBe(false);
    await answer.getByText(reason.body.reason, { exact: false }).first().waitFor();
    await expect(
      answer
        .getByRole('table', { name: /The events it looked at/ })
        .getByText('Activated')
        .count(),
    ).resolves.toBeGreaterThan(0);
    await tab.check('why-not-ada');
  });
});
