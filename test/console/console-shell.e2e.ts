import type { Browser } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, launchBrowser, startConsoleEngine } from './browser';

describeBrowser('console: served by the engine, sign-in and roles', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'shell');
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('serves the console at / with no asset from outside, and its routes survive a reload', async () => {
    const outside: string[] = [];
    tab.page.on('request', (r) => {
      if (!r.url().startsWith(engine.url) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    await tab.goto('/customers/bob');
    await tab.page.getByRole('heading', { name: 'Sign in to Journey Engine' }).waitFor();
    await tab.check('sign-in');
    expect(outside).toEqual([]);
    const api = await fetch(`${engine.url}/v1/session`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(401); // the API keeps its answers; only non-API paths get the console
  });

  it('refuses an unknown key in words, and signs in an admin who sees every area', async () => {
    await tab.goto('/');
    await tab.page.getByLabel('Key').fill('ak_not_a_key');
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
    await expect(tab.page.getByRole('alert').textContent()).resolves.toContain('not known to the engine');
    await tab.signIn(engine.adminKey);
    const nav = tab.page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual([
      'Work',
      'Customers',
      'Triggers',
      'Segments',
      'Analytics',
      'Admin',
    ]);
    await tab.check('signed-in-admin');
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.getByLabel('Key').waitFor();
  });
});
