/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: the DOM types)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEngine, type StartEngineOptions, type TestEngine } from '../e2e/support';

/**
 * The console's browser tests: Debian's Chromium (`apt-get install chromium`, never a browser download) driven by
 * playwright-core, against an engine started in-process serving the built console (dist/console, `npm run
 * build:console`; `npm test` builds it first). Each visited page is screenshotted under .ci/screenshots/<suite>/ and
 * checked with axe-core: no serious or critical violation.
 */

const ROOT = join(__dirname, '..', '..');
export const CONSOLE_DIR = join(ROOT, 'dist', 'console');
export const SCREENSHOTS = join(ROOT, '.ci', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Whether the browser suites can run; without Chromium they fail under JOURNEY_REQUIRE_SERVERS (CI), else skip loudly. */
export function browserAvailable(): boolean {
  if (CHROMIUM && existsSync(CHROMIUM)) return true;
  const message = 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): the console browser tests are SKIPPED';
  if (process.env.JOURNEY_REQUIRE_SERVERS === '1') throw new Error(message);
  console.warn(`\n${'!'.repeat(100)}\n!! ${message}\n${'!'.repeat(100)}\n`);
  return false;
}

/** `describe`, or a loudly skipped `describe.skip` without Chromium. */
export const describeBrowser = (name: string, fn: () => void) => (browserAvailable() ? describe(name, fn) : describe.skip(name, fn));

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** An engine serving the built console. */
export async function startConsoleEngine(options: StartEngineOptions = {}): Promise<TestEngine> {
  if (!existsSync(join(CONSOLE_DIR, 'index.html')))
    throw new Error(`the console is not built (${CONSOLE_DIR}/index.html is missing): run npm run build:console`);
  return startEngine({ ...options, env: { JOURNEY_CONSOLE_DIR: CONSOLE_DIR, ...options.env } });
}

/** An HTTP call to the engine, as a client makes it: its status and body (parsed when it is JSON). Admin key by default. */
export async function request(
  engine: TestEngine,
  method: string,
  path: string,
  { auth = engine.auth.admin, body }: { auth?: string; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${engine.url}${path}`, {
    method,
    headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** As `request`, answering the body; a status outside 2xx fails with what the engine said. */
export async function call<T = any>(
  engine: TestEngine,
  method: string,
  path: string,
  options?: { auth?: string; body?: unknown },
): Promise<T> {
  const res = await request(engine, method, path, options);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** A new key of `role` (created with the admin key). */
export async function createKey(engine: TestEngine, role: string, name = `${role} key`): Promise<string> {
  return (await call<{ key: string }>(engine, 'POST', '/v1/admin/keys', { body: { role, name } })).key;
}

/** Retries `read` until `check` holds on what it answers (15 s at most): the page updates asynchronously. */
export async function until<T>(read: () => T | Promise<T>, check: (value: T) => void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Replaces the whole document of the page's CodeMirror editor, as a person pasting it would (no auto-indent or brackets). */
export async function replaceDocument(page: Page, text: string, editor = page.locator('.cm-content')): Promise<void> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
  await until(
    () => editor.innerText().then((t) => t.replace(/\u00a0/g, ' ').trim()),
    (v) => expect(v).toBe(text.trim()),
  );
}

/**
 * The explain page of the walk-through nudge's message `messageId`, as it should read: trigger version 1, every guard
 * passed, the causing chain from CustomerIdentified and the delivery chain to MessageDelivered.
 */
export async function expectNudgeExplained(page: Page, messageId: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: `Why message ${messageId}` }).waitFor();
  const trigger = page.getByRole('region', { name: 'Trigger' });
  await trigger.getByRole('link', { name: 'Activation nudge (walk-through)' }).waitFor();
  await trigger.getByText('v1', { exact: true }).waitFor();
  const verdicts = await page
    .getByRole('table', { name: /Every guard's verdict/ })
    .locator('tbody tr td:nth-child(2)')
    .allTextContents();
  expect(verdicts.length).toBeGreaterThan(0);
  expect(verdicts.every((v) => v === 'passed')).toBe(true);
  await page
    .getByRole('table', { name: /From the root cause/ })
    .getByText('CustomerIdentified')
    .first()
    .waitFor();
  await page
    .getByRole('table', { name: /Delivery steps/ })
    .getByText('MessageDelivered')
    .waitFor();
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

let axeSource: string | undefined;

/**
 * One browser tab of a suite: `visit`/`check` screenshot the page (numbered, in order) and run axe-core on it; a
 * serious or critical violation fails the test, naming the rule and the elements. Errors in the page's console fail too.
 */
export class ConsoleTab {
  private shots = 0;
  readonly pageErrors: string[] = [];

  constructor(
    readonly page: Page,
    readonly baseUrl: string,
    private readonly suite: string,
  ) {
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
    page.setDefaultTimeout(15_000);
  }

  static async open(browser: Browser, baseUrl: string, suite: string): Promise<ConsoleTab> {
    const dir = join(SCREENSHOTS, suite);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: baseUrl, bypassCSP: true });
    return new ConsoleTab(await context.newPage(), baseUrl, suite);
  }

  async goto(path: string): Promise<void> {
    await this.page.goto(path);
  }

  /** Signs in on the sign-in page with a key and waits for the navigation. */
  async signIn(key: string): Promise<void> {
    await this.page.goto('/');
    await this.page.getByLabel('Key').fill(key);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  /** Screenshots the page as it is now and checks it with axe-core. */
  async check(name: string): Promise<void> {
    this.shots += 1;
    const file = join(SCREENSHOTS, this.suite, `${String(this.shots).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    const violations = await this.axe();
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (bad.length)
      throw new Error(
        `axe-core on "${name}" (${this.page.url()}): ${bad
          .map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
          .join('; ')}`,
      );
    if (this.pageErrors.length) throw new Error(`errors in the page on "${name}": ${this.pageErrors.join('; ')}`);
  }

  private async axe(): Promise<AxeViolation[]> {
    axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    // the engine's CSP forbids inline scripts: the tab's context bypasses it for axe only (bypassCSP)
    if (!(await this.page.evaluate(() => 'axe' in globalThis))) await this.page.addScriptTag({ content: axeSource });
    return this.page.evaluate(async () => {
      const g = globalThis as unknown as {
        axe: { run(ctx: unknown, o: object): Promise<{ violations: AxeViolation[] }> };
        document: unknown;
      };
      const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }));
    });
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}
