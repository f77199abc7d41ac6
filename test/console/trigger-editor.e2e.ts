import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, createKey, describeBrowser, launchBrowser, replaceDocument, startConsoleEngine, until } from './browser';

/**
 * The trigger editor in a real browser: a csm writes a new trigger with a mistake, sees the engine's error at its line
 * as they type, fixes it, saves it, finds it in the list and its version history, saves a second version and reads
 * the diff, and looks at the diagram; an analyst reads the same trigger without a way to change it.
 */

const WITH_ERROR = `id: e2e-welcome
name: E2E welcome
entry:
  event: Signed Up
steps:
  - wait: { duration: soon }
  - send: { channel: inbox, body: "Welcome!" }
`;
const FIXED = WITH_ERROR.replace('soon', '2d');
const VERSION_2 = FIXED.replace('"Welcome!"', '"Welcome aboard!"');

describeBrowser('console: the trigger editor', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;
  let csmKey: string;
  let analystKey: string;

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'trigger-editor');
    csmKey = await createKey(engine, 'csm');
    analystKey = await createKey(engine, 'analyst');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('writes a trigger with an error shown at its line, fixes and saves it, versions it and shows the diff and the diagram', async () => {
    const page = tab.page;
    await tab.signIn(csmKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Triggers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Triggers' }).waitFor();
    await tab.check('list-empty');

    await page.getByRole('link', { name: 'New trigger' }).click();
    await page.getByRole('heading', { level: 1, name: 'New trigger' }).waitFor();
    await expect(page.getByRole('tab', { name: 'Definition' }).getAttribute('aria-selected')).resolves.toBe('true');
    await tab.check('new-trigger');

    // a bad duration: the engine's error at line 6, in the editor and in the list below it
    await replaceDocument(page, WITH_ERROR);
    const problem = page
      .getByRole('listitem')
      .filter({ hasText: 'line 6: steps[0].wait.duration: expected a duration like "3d", got "soon"' });
    await problem.waitFor();
    await expect(page.locator('.cm-line').nth(5).locator('.cm-lintRange-error').textContent()).resolves.toBe('soon');
    await expect(page.locator('.cm-lint-marker-error').count()).resolves.toBe(1);
    await tab.check('new-trigger-error');
    await problem.getByRole('button', { name: /Go to line 6/ }).click();
    await until(
      () => page.locator('.cm-content:focus').count(),
      (v) => expect(v).toBe(1),
    );
    await expect(page.locator('.cm-activeLine').textContent()).resolves.toBe('  - wait: { duration: soon }');

    // fixed: the error clears
    await replaceDocument(page, FIXED);
    await page.getByText('The engine accepts this document.').waitFor();
    await until(
      () => page.locator('.cm-lintRange-error').count(),
      (v) => expect(v).toBe(0),
    );
    await expect(problem.count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Save new trigger' }).click();
    await page.getByRole('heading', { level: 1, name: 'E2E welcome' }).waitFor();
    await expect(page.getByText('· version 1 ·').count()).resolves.toBe(1);
    await tab.check('trigger-saved');

    // in the list: a draft (never enabled), version 1
    await page.getByRole('link', { name: 'All triggers' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'E2E welcome' }) });
    await row.waitFor();
    await expect(row.getByRole('cell').allTextContents()).resolves.toEqual(expect.arrayContaining(['e2e-welcome', 'draft', '1']));
    await tab.check('list');

    // its version history
    await row.getByRole('link', { name: 'E2E welcome' }).click();
    await page.getByRole('heading', { level: 1, name: 'E2E welcome' }).waitFor();
    await page.getByRole('tab', { name: 'Versions' }).click();
    const history = page.getByRole('table', { name: /Version history of e2e-welcome/ });
    await history.waitFor();
    await expect(history.getByRole('row').nth(1).getByRole('cell').first().textContent()).resolves.toBe('1');
    await expect(history.getByRole('row').nth(1).textContent()).resolves.toContain('a csm key');
    await tab.check('versions-1');

    // version 2
    await page.getByRole('tab', { name: 'Definition' }).click();
    await replaceDocument(page, VERSION_2);
    await page.getByText('The engine accepts this document.').waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    await expect(page.getByText('based on version 2').count()).resolves.toBe(1);
    await tab.check('saved-version-2');

    // the diff between 1 and 2
    await page.getByRole('tab', { name: 'Versions' }).click();
    await history.getByRole('row').nth(2).waitFor();
    await page.getByLabel('From version').selectOption('1');
    await page.getByLabel('To version').selectOption('2');
    const diff = page.getByRole('table', { name: 'Changes from version 1 to version 2' });
    await diff.waitFor();
    await expect(diff.getByRole('row').filter({ hasText: 'removed' }).textContent()).resolves.toContain('Welcome!');
    await expect(diff.getByRole('row').filter({ hasText: 'added' }).textContent()).resolves.toContain('Welcome aboard!');
    await page.getByRole('status').filter({ hasText: 'Version 1 → 2: 1 line added, 1 removed.' }).waitFor();
    await tab.check('diff-1-2');

    // the diagram, reached from the keyboard (arrow keys move along the tabs)
    await page.getByRole('tab', { name: 'Definition' }).click();
    await page.getByRole('tab', { name: 'Definition' }).press('ArrowRight');
    await until(
      () => page.getByRole('tab', { name: 'Diagram' }).getAttribute('aria-selected'),
      (v) => expect(v).toBe('true'),
    );
    await until(
      () => page.locator('[role=tab]:focus').allTextContents(),
      (v) => expect(v).toEqual(['Diagram']),
    );
    await page.getByRole('img', { name: /Diagram of the trigger: the entry and 2 steps/ }).waitFor();
    await until(
      () => page.locator('.react-flow__node').count(),
      (v) => expect(v).toBe(4),
    );
    await expect(page.locator('.react-flow__node').allTextContents()).resolves.toEqual([
      'entry: event "Signed Up"',
      'wait 2d',
      'send inbox: Welcome aboard!',
      'end',
    ]);
    await until(
      () => page.locator('.react-flow__edge').count(),
      (v) => expect(v).toBe(3),
    );
    await tab.check('diagram');

    // someone else saves version 3 meanwhile: Save answers the conflict in words and offers their version
    const theirs = await fetch(`${engine.url}/v1/triggers/e2e-welcome`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${csmKey}`, 'content-type': 'application/yaml', 'if-match': '"2"' },
      body: VERSION_2.replace('2d', '5d'),
    });
    expect(theirs.status).toBe(200);
    await page.getByRole('tab', { name: 'Definition' }).click();
    await replaceDocument(page, VERSION_2.replace('2d', '3d'));
    await page.getByRole('button', { name: 'Save new version' }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'Not saved: someone saved another version meanwhile' });
    await conflict.waitFor();
    await expect(conflict.textContent()).resolves.toContain('at version 3, not 2');
    await tab.check('conflict');
    await page.getByRole('button', { name: 'Load the latest version (discards this draft)' }).click();
    await page.getByText('based on version 3').waitFor();
    await until(
      () => page.locator('.cm-content').textContent(),
      (v) => expect(v).toContain('duration: 5d'),
    );
    await expect(page.getByText('unsaved changes').count()).resolves.toBe(0);
  }, 90_000);

  it('draws a library trigger with branches: arms side by side, labelled then / else', async () => {
    const page = tab.page;
    const res = await fetch(`${engine.url}/v1/triggers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${csmKey}`, 'content-type': 'application/yaml' },
      body: readFileSync(join(__dirname, '../../triggers/library/support-reply-triage.yaml'), 'utf8'),
    });
    expect(res.status).toBe(201);
    await tab.goto('/triggers/support-reply-triage?tab=diagram');
    await page.getByRole('img', { name: /Diagram of the trigger: the entry and 6 steps/ }).waitFor();
    await until(
      () => page.locator('.react-flow__node').count(),
      (v) => expect(v).toBe(9),
    );
    await until(
      () => page.locator('.react-flow__edge-text').allTextContents(),
      (v) => expect([...v].sort()).toEqual(['else', 'else', 'then', 'then']),
    );
    // the then arm left of the else arm, both below the branch
    const box = async (text: string) => (await page.locator('.react-flow__node', { hasText: text }).first().boundingBox())!;
    const [branch, tag, handoff] = [await box('if customer replied'), await box('tag unhappy'), await box('handoff to support (high)')];
    expect(tag.y).toBeGreaterThan(branch.y);
    expect(handoff.y).toBeGreaterThan(tag.y);
    expect(tag.x).toBeLessThan((await box('reply: Glad we could help')).x);
    await tab.check('diagram-branches');
  });

  it('shows an analyst the trigger read-only: no New trigger, no Save, an editor that does not take input', async () => {
    const page = tab.page;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await tab.signIn(analystKey);
    await tab.goto('/triggers');
    await page.getByRole('link', { name: 'E2E welcome' }).waitFor();
    await expect(page.getByRole('link', { name: 'New trigger' }).count()).resolves.toBe(0);
    await tab.check('analyst-list');
    await page.getByRole('link', { name: 'E2E welcome' }).click();
    await page.getByText('Read only: this key may read triggers, not change them.').waitFor();
    await expect(page.locator('.cm-content').getAttribute('contenteditable')).resolves.toBe('false');
    await expect(page.getByRole('button', { name: /Save/ }).count()).resolves.toBe(0);
    await expect(page.locator('.cm-content').textContent()).resolves.toContain('Welcome aboard!');
    await tab.check('analyst-trigger');
  });
});
