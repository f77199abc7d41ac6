import type { Browser } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { call, ConsoleTab, describeBrowser, launchBrowser, replaceDocument, startConsoleEngine } from './browser';

/**
 * Segments in the console: an admin defines one (a refused document first, its error in words at its line), customers
 * arrive through the API and appear as members with the day's counts, a member opens their customer page, a broadcast
 * to the segment is sent and listed, the segment is deleted after a confirmation; an analyst sees it all without the
 * editing controls.
 */
describeBrowser('console: segments and broadcasts', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;

  const api = <T = any>(method: string, path: string, body?: unknown, auth = engine.auth.admin) =>
    call<T>(engine, method, path, { body, auth });

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'segments');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  /** Replaces the segment document in its CodeMirror editor with `text`, as one paste. */
  const setEditor = (text: string) => replaceDocument(tab.page, text, tab.page.getByRole('textbox', { name: 'Segment document (YAML)' }));

  it('defines a segment, shows its members and counts, broadcasts to it, and deletes it', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Segments' }).waitFor();
    await page.getByRole('table', { name: /0 segments/ }).waitFor();
    await tab.check('segments-empty');

    // a document the engine refuses: its words, at the line they name
    await page.getByRole('link', { name: 'Define a segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Define a segment' }).waitFor();
    await page.getByLabel('Id').fill('pro');
    await setEditor(
      'name: Pro customers\nconditions:\n  all:\n    - traits: { plan: pro }\n    - count: { event: Login, within: soon, gte: 1 }\n',
    );
    await page.getByRole('button', { name: 'Save segment' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'The engine refused the segment' });
    await refused.waitFor();
    expect(await refused.textContent()).toContain('line 5: conditions.all[1].count.within: expected a duration like "3d", got "soon"');
    // and underlined at that line in the editor
    await page.locator('.cm-lintRange-error').filter({ hasText: 'within' }).waitFor();
    await tab.check('segment-refused');

    await setEditor('name: Pro customers\ndescription: Customers on the pro plan\nconditions:\n  traits: { plan: pro }\n');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Segment pro' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Saved as version 1.' }).waitFor();

    // customers arrive through the API: two on the pro plan, one not
    for (const [userId, plan, name] of [
      ['ann', 'pro', 'Ann'],
      ['bob', 'pro', 'Bob'],
      ['cid', 'free', 'Cid'],
    ])
      await api('POST', '/v1/identify', { userId, traits: { plan, name } }, engine.auth.write);

    const members = page.getByRole('list').filter({ has: page.getByRole('link', { name: 'ann' }) });
    await page.getByTestId('members-now').filter({ hasText: /^2$/ }).waitFor();
    await members.getByRole('link', { name: 'bob' }).waitFor({ timeout: 15_000 });
    expect(await members.getByRole('link').allTextContents()).toEqual(['ann', 'bob']);
    const today = new Date().toISOString().slice(0, 10);
    const counts = page.getByRole('table', { name: /Members per day/ });
    await counts.getByRole('row', { name: `${today} 2 0 2` }).waitFor();
    const api2 = await api<{ days: { day: string; entered: number; members: number }[] }>(
      'GET',
      `/v1/segments/pro/counts?from=${today}&to=${today}`,
    );
    expect(api2.days).toEqual([{ day: today, entered: 2, left: 0, members: 2 }]);
    expect(await page.getByRole('img', { name: /Members per day from .* 2 at the end; 2 entered and 0 left/ }).count()).toBe(1);
    await tab.check('segment-members');

    // a member's link opens the customer's page
    await members.getByRole('link', { name: 'ann' }).click();
    await page.waitForURL(/\/customers\/ann$/);
    await tab.check('member-customer');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Segment pro' }).waitFor();

    // a broadcast to the segment, now
    await page.getByRole('link', { name: 'Broadcast to this segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'New broadcast' }).waitFor();
    // the segment options arrive with the list of segments; the link's segment is chosen once they are there
    await page.locator('#b-segment option[value="pro"]').waitFor({ state: 'attached' });
    await expect(page.getByLabel('Segment').inputValue()).resolves.toBe('pro');
    await page.getByLabel('Id (optional)').fill('pro-news');
    await page.getByLabel('Subject (optional)').fill('News for pro');
    await page.getByLabel('Message', { exact: true }).fill('Hi {{ customer.traits.name }}, here is what is new.');
    await tab.check('broadcast-new');
    await page.getByRole('button', { name: 'Send broadcast' }).click();
    await page.getByRole('heading', { level: 1, name: 'Broadcast pro-news' }).waitFor();
    const analytics = page.getByRole('table', { name: /^Broadcast analytics/ });
    // targeted, pending, scheduled, suppressed, sent, delivered: the two pro customers got it
    await analytics.getByRole('row', { name: /^2 0 2 none 2 2 0 / }).waitFor({ timeout: 20_000 });
    await page.locator('h2 .badge', { hasText: 'completed' }).waitFor();
    const detail = await api<{ status: string; analytics: { targeted: number; scheduled: number; delivered: number } }>(
      'GET',
      '/v1/broadcasts/pro-news',
    );
    expect(detail).toMatchObject({ status: 'completed', analytics: { targeted: 2, scheduled: 2 } });
    await tab.check('broadcast-detail');

    // listed with the segments
    await page.getByRole('link', { name: 'All segments and broadcasts' }).click();
    const list = page.getByRole('table', { name: /1 broadcast, newest first/ });
    await list.waitFor();
    const row = list.getByRole('row').filter({ has: page.getByRole('link', { name: 'pro-news' }) });
    expect(await row.innerText()).toMatch(/pro-news\s+pro\s+inbox\s+now .*\s+completed\s+2\s+2\s+none/);
    expect(await page.getByRole('table', { name: /^1 segment / }).innerText()).toMatch(/pro\s+Pro customers\s+1\s+2/);
    await tab.check('segments-list');

    // one at 09:00 in each customer's own time zone, months ahead: scheduled, then cancelled after a confirmation
    await page.getByRole('link', { name: 'New broadcast' }).click();
    await page.getByRole('heading', { level: 1, name: 'New broadcast' }).waitFor();
    await page.getByLabel('Segment').selectOption('pro');
    await page.getByLabel('Id (optional)').fill('pro-summer');
    await page.getByLabel('Message', { exact: true }).fill('Summer plans');
    const next = new Date().getUTCFullYear() + 1;
    await page.getByLabel("At a time in each customer's own time zone").check();
    await page.getByLabel('Local date and time').fill(`${next}-06-01T09:00`);
    await page.getByRole('button', { name: 'Schedule broadcast' }).click();
    await page.getByRole('heading', { level: 1, name: 'Broadcast pro-summer' }).waitFor();
    await page.getByText(`${next}-06-01 09:00 in each customer's time zone`).waitFor();
    await page.locator('h2 .badge', { hasText: 'scheduled' }).waitFor();
    await page.getByRole('button', { name: 'Cancel broadcast' }).click();
    const cancelDialog = page.getByRole('dialog', { name: 'Cancel broadcast pro-summer?' });
    await cancelDialog.waitFor();
    await tab.check('broadcast-cancel-confirm');
    await cancelDialog.getByRole('button', { name: 'Cancel broadcast' }).click();
    await page.locator('h2 .badge', { hasText: 'cancelled' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel broadcast' }).count()).toBe(0);
    expect(await api('GET', '/v1/broadcasts/pro-summer')).toMatchObject({ status: 'cancelled', localTime: `${next}-06-01T09:00` });
    await page.getByRole('link', { name: 'All segments and broadcasts' }).click();
    await page
      .getByRole('table', { name: /2 broadcasts, newest first/ })
      .getByRole('row', { name: /^pro-summer pro inbox .* cancelled/ })
      .waitFor();

    // a new version: the editor opens on the current document, saved with If-Match
    await page.getByRole('link', { name: 'pro', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Segment pro' }).waitFor();
    await page.getByRole('link', { name: 'Edit segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit segment pro' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Segment document (YAML)' }).innerText()).toContain('plan: pro');
    await tab.check('segment-edit');
    await setEditor('name: Pro customers\ndescription: Everyone on the pro plan\nconditions:\n  traits: { plan: pro }\n');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    await page.getByText('Everyone on the pro plan', { exact: true }).waitFor();
    expect(await api('GET', '/v1/segments/pro')).toMatchObject({ version: 2, description: 'Everyone on the pro plan' });

    // delete, after a confirmation that says what it does
    await page.getByRole('button', { name: 'Delete segment' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete segment pro?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Its 2 members leave it');
    await tab.check('segment-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete segment' }).click();
    await page.getByRole('heading', { level: 1, name: 'Segments' }).waitFor();
    await page.getByRole('table', { name: /0 segments/ }).waitFor();
    expect((await api<{ segments: unknown[] }>('GET', '/v1/segments')).segments).toEqual([]);
  }, 90_000);

  it('shows an analyst the segments and broadcasts without the controls to change them', async () => {
    const page = tab.page;
    await api('PUT', '/v1/segments/free', { name: 'Free plan', conditions: { traits: { plan: 'free' } } });
    const { key } = await api<{ key: string }>('POST', '/v1/admin/keys', { role: 'analyst', name: 'Ana' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await tab.signIn(key);
    await tab.goto('/segments');
    await page.getByRole('table', { name: /^1 segment / }).waitFor();
    expect(await page.getByRole('link', { name: 'Define a segment' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New broadcast' }).count()).toBe(0);
    await page.getByRole('link', { name: 'free', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Segment free' }).waitFor();
    await page.getByTestId('members-now').filter({ hasText: /^1$/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete segment' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit segment' }).count()).toBe(0);
    await tab.check('segment-analyst');
    await tab.goto('/segments/broadcasts/pro-news');
    await page.getByRole('heading', { level: 1, name: 'Broadcast pro-news' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel broadcast' }).count()).toBe(0);
  }, 60_000);
});
