/**
 * The README's five-minute walk-through, done through the console: the activation nudge in the README (its YAML read
 * from README.md, the 20 s wait shortened to 3 s) written in the trigger editor, saved and enabled with the
 * confirmation that states its impact; Ada and Bob sign up from "their app" (the ingestion API, as in the README); Bob's
 * page open while his timer runs, the nudge arriving on his timeline without a reload; its explain page; Ada's empty
 * inbox. The screenshots of this suite are the ones the README shows (docs/console/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, expectNudgeExplained, launchBrowser, replaceDocument, request, startConsoleEngine } from './browser';

/** The trigger the README deploys with curl, as written there. */
function readmeTrigger(): string {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const yaml = /curl -s localhost:3000\/v1\/triggers .*--data-binary '\n([\s\S]*?)\n'/.exec(readme)?.[1];
  if (!yaml?.includes('id: walkthrough-nudge') || !yaml.includes('for: 20s'))
    throw new Error('README.md no longer deploys walkthrough-nudge with a 20s wait: update this test with it');
  return yaml.replace('for: 20s', 'for: 3s');
}

describeBrowser('console: the README walk-through', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;

  const ingest = async (path: string, body: unknown) =>
    expect((await request(engine, 'POST', path, { auth: engine.auth.write, body })).status).toBe(200);

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'walkthrough');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('deploys and enables the nudge in the editor', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Triggers' }).click();
    await page.getByRole('link', { name: 'New trigger' }).click();
    await page.getByRole('heading', { level: 1, name: 'New trigger' }).waitFor();
    await replaceDocument(page, readmeTrigger());
    await page.getByText('The engine accepts this document.').waitFor();
    await tab.check('nudge-written');
    await page.getByRole('button', { name: 'Save new trigger' }).click();
    await page.getByRole('heading', { level: 1, name: 'Activation nudge (walk-through)' }).waitFor();

    // enabling asks first, stating what it would send (no one yet: no history to judge by)
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Enable walkthrough-nudge?' });
    await dialog.getByTestId('enable-impact').waitFor();
    await tab.check('nudge-enable-confirmation');
    await dialog.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Enabled version 1.' }).waitFor();
    await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    const stored = await request(engine, 'GET', '/v1/triggers/walkthrough-nudge');
    expect(stored.body).toMatchObject({ enabled: true, version: 1 });
    expect(stored.body.definition.entry.absent).toMatchObject({ event: 'Activated', for: '3s' });
    await tab.check('nudge-enabled');
  });

  it("watches Bob's timeline as the nudge arrives, without a reload, and opens its explain page", async () => {
    const page = tab.page;
    await ingest('/v1/identify', { userId: 'ada', traits: { name: 'Ada', email: 'ada@example.com' } });
    await ingest('/v1/track', { userId: 'ada', event: 'Activated' });
    await ingest('/v1/identify', { userId: 'bob', traits: { name: 'Bob' } });
    await ingest('/v1/track', { userId: 'bob', event: 'Report Viewed', properties: { report: 'weekly' } });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('table', { name: 'Customers' }).getByRole('link', { name: 'bob', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Customer bob' }).waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('Tracked "Report Viewed"').waitFor();
    await page.getByRole('status').filter({ hasText: '● Live' }).waitFor();
    await tab.check('bob-waiting');

    // the durable timer fires 3 s after he was identified: the message arrives on the open page
    const explain = timeline.getByRole('link', { name: /^Explain message / }).first();
    await explain.waitFor({ timeout: 20_000 });
    await expect(page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    const inbox = await request(engine, 'GET', '/v1/customers/bob/inbox');
    expect(inbox.body.messages).toHaveLength(1);
    const messageId: string = inbox.body.messages[0].messageId;
    await expect(explain.textContent()).resolves.toContain(messageId);
    await tab.check('bob-nudged');

    await explain.click();
    await expectNudgeExplained(page, messageId);
    await tab.check('explain');
  });

  it('shows that Ada, who activated, got nothing', async () => {
    const page = tab.page;
    await tab.goto('/customers/ada');
    await page.getByRole('heading', { level: 1, name: 'Customer ada' }).waitFor();
    await page.getByRole('list', { name: 'Timeline' }).getByText('Tracked "Activated"').waitFor();
    const inbox = page.getByRole('table', { name: /In-app messages/ });
    await inbox.waitFor();
    await expect(inbox.locator('tbody tr').allTextContents()).resolves.toEqual(['Nothing yet.']);
    expect((await request(engine, 'GET', '/v1/customers/ada/inbox')).body.messages).toEqual([]);
    await tab.check('ada');
  });
});
