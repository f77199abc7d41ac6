/**
 * An analyst who cannot edit: with an analyst key (created over the admin API) the console shows Customers,
 * Triggers, Segments and Analytics with no control that changes anything (by accessible name: Save, Enable, Disable,
 * New trigger, New segment, Delete, Reply, Send broadcast), leaves Work and Admin out of the navigation and answers
 * `/admin` and `/work` with "Not available to this key"; the engine refuses the analyst's writes with 403 anyway.
 * Written against the areas' headings and the absence of editing controls, so it holds as those pages grow: where a
 * page lists what the API created (the trigger, the segment, the customer), its detail page is checked too.
 */
import type { Browser, Page } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, launchBrowser, request, startConsoleEngine } from './browser';

const callWith = (engine: TestEngine, auth: string, method: string, path: string, body?: unknown) =>
  request(engine, method, path, { auth, body });

/** Controls that change something, by the start of their accessible name ("Enable" but not "Enabled only"). */
const EDITING = ['Save', 'Enable', 'Disable', 'New trigger', 'New segment', 'Delete', 'Reply', 'Send broadcast'];

async function editingControls(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const name of EDITING) {
    const pattern = new RegExp(`^\\s*${name}\\b`, 'i');
    for (const role of ['button', 'link', 'menuitem'] as const) {
      const n = await page.getByRole(role, { name: pattern }).count();
      if (n) found.push(`${n} ${role}(s) named ${name}…`);
    }
  }
  return found;
}

/** The page has its h1 and has finished loading what it shows (no "Loading…" status left). */
async function settled(page: Page, heading: RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await page.waitForFunction(() => ![...document.querySelectorAll('[role=status]')].some((e) => /loading/i.test(e.textContent ?? '')));
}

describeBrowser('console: an analyst who cannot edit', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;
  let analystKey: string;
  let analyst: string;

  beforeAll(async () => {
    engine = await startConsoleEngine();
    const admin = (method: string, path: string, body?: unknown) => callWith(engine, engine.auth.admin, method, path, body);
    expect(
      (await callWith(engine, engine.auth.write, 'POST', '/v1/identify', { userId: 'ada', traits: { name: 'Ada', plan: 'pro' } })).status,
    ).toBe(200);
    const trigger = {
      id: 'analyst-nudge',
      name: 'Activation nudge (analyst view)',
      entry: { absent: { event: 'Activated', for: '2d', after: { event: 'CustomerIdentified' } } },
      steps: [{ send: { channel: 'inbox', subject: 'Need a hand?', body: 'Reply and we will help.' } }],
    };
    expect((await admin('POST', '/v1/triggers', trigger)).status).toBe(201);
    expect((await admin('POST', '/v1/triggers/analyst-nudge/enable')).status).toBe(200);
    const segment = { name: 'Pro customers', conditions: { all: [{ traits: { plan: 'pro' } }] } };
    expect((await admin('PUT', '/v1/segments/pro-customers', segment)).status).toBe(200);
    const created = await admin('POST', '/v1/admin/keys', { role: 'analyst', name: 'Nia (analyst)' });
    expect(created.status).toBe(201);
    analystKey = created.body.key;
    analyst = `Bearer ${analystKey}`;
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'analyst');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('sees Customers, Triggers, Segments and Analytics without a control that edits, and not Work or Admin', async () => {
    const page = tab.page;
    await tab.signIn(analystKey);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual(['Customers', 'Triggers', 'Segments', 'Analytics']);
    await expect(page.getByLabel('Signed in as').textContent()).resolves.toContain('Analyst');

    const areas: { link: string; heading: RegExp; detail?: RegExp }[] = [
      { link: 'Customers', heading: /customers/i, detail: /^ada\b/i },
      { link: 'Triggers', heading: /triggers/i, detail: /Activation nudge \(analyst view\)|analyst-nudge/ },
      { link: 'Segments', heading: /segments/i, detail: /Pro customers|pro-customers/ },
      { link: 'Analytics', heading: /analytics/i },
    ];
    for (const area of areas) {
      await nav.getByRole('link', { name: area.link, exact: true }).click();
      await settled(page, area.heading);
      await tab.check(area.link.toLowerCase());
      await expect(editingControls(page)).resolves.toEqual([]);
      // once the area lists what the API created, its page is read-only too
      const item = page
        .getByRole('main')
        .getByRole('link', { name: area.detail ?? /$^/ })
        .first();
      if (area.detail && (await item.count())) {
        await item.click();
        await page.getByRole('heading', { level: 1 }).waitFor();
        await settled(page, /./);
        await tab.check(`${area.link.toLowerCase()}-detail`);
        await expect(editingControls(page)).resolves.toEqual([]);
      }
    }

    for (const path of ['/admin', '/admin/keys', '/work']) {
      await tab.goto(path);
      await page.getByRole('heading', { level: 1, name: 'Not available to this key' }).waitFor();
      await expect(page.getByRole('main').textContent()).resolves.toContain('this key is analyst');
      await expect(nav.getByRole('link', { name: /^(Work|Admin)$/ }).count()).resolves.toBe(0);
    }
    await tab.check('admin-refused');

    // the same look-up finds the controls of a key that may edit (it is no check that cannot fail)
    await page.getByRole('button', { name: 'Sign out' }).click();
    await tab.signIn(engine.adminKey);
    await tab.goto('/admin/settings');
    await settled(page, /admin/i);
    // Save settings and Save secret
    await expect(editingControls(page)).resolves.toEqual(['2 button(s) named Save…']);
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it("the engine refuses the analyst's writes with 403, changing nothing, and reads still work", async () => {
    const writes: [string, string, unknown?][] = [
      ['POST', '/v1/triggers/analyst-nudge/disable'],
      ['PUT', '/v1/segments/pro-customers', { name: 'Changed', conditions: { all: [{ traits: { plan: 'free' } }] } }],
      ['POST', '/v1/admin/keys', { role: 'admin' }],
      ['PUT', '/v1/teams/support', { name: 'Support' }],
      ['PUT', '/v1/admin/workspace/secrets/crm_token', { value: 'x' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await callWith(engine, analyst, method, path, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    }
    expect((await callWith(engine, analyst, 'GET', '/v1/segments/pro-customers')).status).toBe(200);
    expect((await callWith(engine, analyst, 'GET', '/v1/analytics/triggers')).status).toBe(200);
    const trigger = await callWith(engine, engine.auth.admin, 'GET', '/v1/triggers/analyst-nudge');
    expect(trigger.body).toMatchObject({ enabled: true });
    expect((await callWith(engine, engine.auth.admin, 'GET', '/v1/segments/pro-customers')).body).toMatchObject({ name: 'Pro customers' });
  });
});
