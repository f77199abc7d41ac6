/**
 * The admin area in a real browser: an admin defines a team and a member and creates a csm key bound to them, all
 * through the console, copies the key shown once and signs in with it as that CSM (no Admin in the navigation); rotates
 * and revokes keys, after which the old keys are refused (the console signs a tab out and says why); edits teams
 * against a concurrent change (If-Match: 412 in words) and the workspace settings and a secret by name, checked through
 * the API (which never answers with a secret's value).
 */
import type { Browser } from 'playwright-core';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, launchBrowser, request, startConsoleEngine } from './browser';

/** A call with `key` (a bare key, sent as a Bearer token). */
const callWith = (engine: TestEngine, key: string, method: string, path: string, body?: unknown) =>
  request(engine, method, path, { auth: `Bearer ${key}`, body });

describeBrowser('console: admin manages keys, teams and members, and workspace settings', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;
  let other: ConsoleTab;
  let csmKey: string;

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'admin');
    await tab.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: engine.url });
    other = await ConsoleTab.open(browser, engine.url, 'admin-second-tab');
  }, 60_000);
  afterAll(async () => {
    await other?.close();
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  const adminApi = (method: string, path: string, body?: unknown) => callWith(engine, engine.adminKey, method, path, body);

  it('defines a team and a member, creates a csm key bound to them, shown once and copied, which signs in as that CSM', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Keys in force' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Keys' }).getAttribute('aria-selected')).toBe('true');
    await tab.check('admin-keys');

    // the tabs follow the arrow keys
    await page.getByRole('tab', { name: 'Keys' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Teams and members' }).getAttribute('aria-selected')).toBe('true');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Teams and members');
    expect(page.url()).toBe(`${engine.url}/admin/teams`);

    await page.getByRole('button', { name: 'New team' }).click();
    await page.getByLabel('Team id').fill('onboarding');
    await page.getByLabel('Team name').fill('Onboarding');
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByLabel('high first response target').fill('1h');
    await page.getByLabel('high resolution target').fill('eventually');
    await page.getByRole('button', { name: 'Create team' }).click();
    // the errors are beside their fields, and nothing was sent
    await page.getByText('"Mars/Olympus" is not an IANA time zone like Europe/Paris').waitFor();
    await page.getByText('a duration in business hours like 30m, 4h or 2d').waitFor();
    expect(await page.getByLabel('Time zone').getAttribute('aria-invalid')).toBe('true');
    await tab.check('admin-team-errors');
    expect((await adminApi('GET', '/v1/teams')).body.teams).toEqual([]);
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('high resolution target').fill('8h');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('status').filter({ hasText: 'Team “Onboarding” saved.' }).waitFor();

    await page.getByRole('button', { name: 'New member' }).click();
    await page.getByLabel('Member id').fill('sam');
    await page.getByLabel('Full name').fill('Sam Lee');
    await page.getByLabel('Email').fill('sam@example.com');
    await page.getByRole('checkbox', { name: 'Onboarding' }).check();
    await page.getByRole('button', { name: 'Create member' }).click();
    await page.getByRole('status').filter({ hasText: 'Member “Sam Lee” saved.' }).waitFor();
    await page.getByRole('button', { name: 'Mark away (Sam Lee)' }).click();
    await page.getByRole('button', { name: 'Mark available (Sam Lee)' }).waitFor();
    expect((await adminApi('GET', '/v1/members/sam')).body).toMatchObject({ away: true });
    await page.getByRole('button', { name: 'Mark available (Sam Lee)' }).click();
    await page.getByRole('button', { name: 'Mark away (Sam Lee)' }).waitFor();
    await tab.check('admin-teams');
    expect((await adminApi('GET', '/v1/teams/onboarding')).body).toEqual({
      teamId: 'onboarding',
      name: 'Onboarding',
      timeZone: 'Europe/Berlin',
      sla: { high: { firstResponse: '1h', resolution: '8h' } },
    });
    expect((await adminApi('GET', '/v1/members/sam')).body).toMatchObject({
      memberId: 'sam',
      name: 'Sam Lee',
      email: 'sam@example.com',
      teams: ['onboarding'],
      away: false,
    });

    // someone changes the teams meanwhile: the console's change, based on the revision it read, is refused in words
    expect((await adminApi('PUT', '/v1/teams/sales', { name: 'Sales' })).status).toBe(200);
    await page.getByRole('button', { name: 'Edit team Onboarding' }).click();
    await page.getByLabel('Team name').fill('Onboarding EMEA');
    await page.getByRole('button', { name: 'Save team' }).click();
    await page.getByRole('alert').filter({ hasText: 'changed the teams and members since this page loaded them' }).waitFor();
    expect((await adminApi('GET', '/v1/teams/onboarding')).body.name).toBe('Onboarding');
    await page.getByRole('cell', { name: 'Sales', exact: true }).waitFor(); // the list was read again
    await page.getByRole('button', { name: 'Save team' }).click();
    await page.getByRole('status').filter({ hasText: 'Team “Onboarding EMEA” saved.' }).waitFor();
    expect((await adminApi('GET', '/v1/teams/onboarding')).body.name).toBe('Onboarding EMEA');

    await page.getByRole('tab', { name: 'Keys' }).click();
    await page.getByLabel('Role').selectOption('csm');
    await page.getByLabel('Name', { exact: true }).fill('Sam (CSM)');
    await page.getByLabel('Member', { exact: true }).selectOption({ label: 'Sam Lee (sam)' });
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'Key created: Sam (CSM)' }).waitFor();
    await page.getByText('you will not see it again').waitFor();
    await tab.check('admin-key-created');
    const shown = await page.getByRole('textbox', { name: 'New key' }).inputValue();
    expect(shown).toMatch(/^ck_/);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    csmKey = await page.evaluate(() => navigator.clipboard.readText());
    expect(csmKey).toBe(shown);
    const listed = (await adminApi('GET', '/v1/admin/keys')).body.keys.find((k: { name: string }) => k.name === 'Sam (CSM)');
    expect(listed).toMatchObject({ role: 'csm', memberId: 'sam', lastFour: csmKey.slice(-4) });
    await page.getByRole('row', { name: /Sam \(CSM\)/ }).waitFor();
    await page.getByRole('button', { name: 'Done, I have copied it' }).click();
    await page.getByRole('textbox', { name: 'New key' }).waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(csmKey); // shown once: gone from the page

    await page.getByRole('button', { name: 'Sign out' }).click();
    await tab.signIn(csmKey);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual(['Work', 'Customers', 'Triggers', 'Segments', 'Analytics']);
    await expect(page.getByLabel('Signed in as').textContent()).resolves.toContain('sam · Customer success manager');
    await tab.check('csm-signed-in');
    await tab.goto('/admin/keys');
    await page.getByRole('heading', { name: 'Not available to this key', level: 1 }).waitFor();
    await tab.check('csm-no-admin');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('rotates and revokes keys: the old keys are refused, and a tab signed in with one is signed out with the reason', async () => {
    const page = tab.page;
    await tab.signIn(engine.adminKey);
    await tab.goto('/admin/keys');
    await page.getByLabel('Role').selectOption('admin');
    await expect(page.getByLabel('Member', { exact: true }).count()).resolves.toBe(0); // only csm keys belong to a member
    await page.getByLabel('Name', { exact: true }).fill('Ops admin');
    await page.getByRole('button', { name: 'Create key' }).click();
    const opsKey = await page.getByRole('textbox', { name: 'New key' }).inputValue();
    expect(opsKey).toMatch(/^ak_/);
    await page.getByRole('button', { name: 'Done, I have copied it' }).click();

    // a second tab works with the ops key
    await other.signIn(opsKey);
    await other.goto('/admin/keys');
    await other.page
      .getByRole('row', { name: /Ops admin/ })
      .getByText('this key')
      .waitFor();
    await other.check('ops-admin-keys');

    await page.getByRole('button', { name: 'Rotate key Ops admin' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate key “Ops admin”?' });
    await dialog.getByText('The old key stops working at once').waitFor();
    await tab.check('admin-rotate-dialog');
    await dialog.getByRole('button', { name: 'Rotate key', exact: true }).click();
    await page.getByRole('heading', { name: 'New key for Ops admin' }).waitFor();
    const rotated = await page.getByRole('textbox', { name: 'New key' }).inputValue();
    expect(rotated).toMatch(/^ak_/);
    expect(rotated).not.toBe(opsKey);
    await tab.check('admin-rotated');
    expect((await callWith(engine, opsKey, 'GET', '/v1/session')).status).toBe(401);
    expect((await callWith(engine, rotated, 'GET', '/v1/session')).status).toBe(200);
    await page.getByRole('button', { name: 'Done, I have copied it' }).click();

    // the tab with the old key: its next call is refused and it shows the sign-in page with why
    await other.page.reload();
    await other.page.getByRole('heading', { name: 'Sign in to Journey Engine' }).waitFor();
    await other.page.getByRole('status').filter({ hasText: 'the key was refused (revoked or rotated)' }).waitFor();
    await other.check('signed-out-rotated');
    await other.page.getByLabel('Key').fill(opsKey);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.getByRole('alert').filter({ hasText: 'not known to the engine (mistyped, revoked or rotated)' }).waitFor();

    // revoke the csm key of the first test
    expect((await callWith(engine, csmKey, 'GET', '/v1/session')).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke key Sam (CSM)' }).click();
    const revokeDialog = page.getByRole('dialog', { name: 'Revoke key “Sam (CSM)”?' });
    await revokeDialog.getByText('This cannot be undone').waitFor();
    await revokeDialog.getByRole('button', { name: 'Revoke key', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Key “Sam (CSM)” revoked: it no longer works.' }).waitFor();
    await page.getByRole('row', { name: /Sam \(CSM\)/ }).waitFor({ state: 'detached' });
    await tab.check('admin-revoked');
    expect((await callWith(engine, csmKey, 'GET', '/v1/session')).status).toBe(401);
    await other.page.getByLabel('Key').fill(csmKey);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.getByRole('alert').filter({ hasText: 'not known to the engine' }).waitFor();
    await other.check('sign-in-revoked');

    // the last admin key: the engine refuses, in words, where the change was asked
    await page.getByRole('button', { name: 'Revoke key Ops admin' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Key “Ops admin” revoked' }).waitFor();
    const own = (await adminApi('GET', '/v1/admin/keys')).body.keys.filter((k: { role: string }) => k.role === 'admin');
    expect(own).toHaveLength(1);
    await page.getByRole('button', { name: `Revoke key ${own[0].name}` }).click();
    await page.getByRole('dialog').getByText('This is the last admin key').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not revoke the key' }).filter({ hasText: '(409)' }).waitFor();
    expect((await callWith(engine, engine.adminKey, 'GET', '/v1/session')).status).toBe(200);
  });

  it('edits the workspace settings and a secret by name; the API holds them and never shows the value', async () => {
    const page = tab.page;
    await page.getByRole('tab', { name: 'Workspace settings' }).click();
    await page.getByRole('heading', { name: 'Secrets' }).waitFor();
    await tab.check('admin-settings');

    await page.getByLabel('Secret name').fill('inapp_identity');
    await page.getByLabel('Secret value').fill('s3cret-identity-value');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Secret “inapp_identity” set.' }).waitFor();
    await page.getByRole('cell', { name: 'inapp_identity', exact: true }).waitFor();

    await page.getByLabel('Allowed origins').fill('https://app.example.com\nhttps://app.example.com/login');
    await page.getByLabel('In-app identity secret').selectOption('inapp_identity');
    await page.getByLabel('Most messages a day on enable').fill('500');
    await page.getByLabel('Dry-run period').fill('3d');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('"https://app.example.com/login" is not an origin').waitFor();
    expect(await page.getByLabel('Allowed origins').getAttribute('aria-invalid')).toBe('true');
    await tab.check('admin-settings-invalid');
    expect((await adminApi('GET', '/v1/admin/workspace/settings')).body.settings).toEqual({});

    await page.getByLabel('Allowed origins').fill('https://app.example.com\nhttp://localhost:5173/');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
    const saved = (await adminApi('GET', '/v1/admin/workspace/settings')).body;
    expect(saved.settings).toEqual({
      inApp: { allowedOrigins: ['https://app.example.com', 'http://localhost:5173'], identitySecret: 'inapp_identity' },
      policy: { maxDailyMessagesOnEnable: 500, period: '3d' },
    });
    expect(saved.secrets).toEqual(['inapp_identity']);
    expect(JSON.stringify(saved)).not.toContain('s3cret-identity-value');
    await page.getByRole('cell', { name: 'In-app identity secret', exact: true }).waitFor(); // what uses the secret
    expect(await page.content()).not.toContain('s3cret-identity-value');
    await tab.check('admin-settings-saved');
    // the origins are in force: the in-app client API answers them (CORS), and no other
    const { workspaceId } = (await adminApi('GET', '/v1/session')).body as { workspaceId: string };
    const preflight = (origin: string) =>
      fetch(`${engine.url}/v1/client/${encodeURIComponent(workspaceId)}/messages`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      }).then((r) => r.headers.get('access-control-allow-origin'));
    await expect(preflight('http://localhost:5173')).resolves.toBe('http://localhost:5173');
    await expect(preflight('https://elsewhere.example.com')).resolves.toBeNull();

    // someone else changes the settings while the form is open: the console refuses to overwrite, in words
    const changed = { ...saved.settings, email: { replyDomain: 'reply.example.com' } };
    expect((await adminApi('PUT', '/v1/admin/workspace/settings', changed)).status).toBe(200);
    await page.getByLabel('Dry-run period').fill('5d');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: 'someone changed the workspace settings since you opened this form' }).waitFor();
    expect((await adminApi('GET', '/v1/admin/workspace/settings')).body.settings).toEqual(changed);
    await page.getByRole('button', { name: 'Reload the settings' }).click();
    // the form starts again from the document read
    await page.waitForFunction(
      () => (document.getElementById('setting-replyDomain') as HTMLInputElement | null)?.value === 'reply.example.com',
    );
    expect(await page.getByLabel('Dry-run period').inputValue()).toBe('3d');

    // replace and remove the secret
    await page.getByRole('button', { name: 'Replace secret inapp_identity' }).click();
    await expect(page.getByLabel('Secret name').inputValue()).resolves.toBe('inapp_identity');
    await page.getByLabel('Secret value').fill('another-value');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Secret “inapp_identity” replaced.' }).waitFor();
    await page.getByRole('button', { name: 'Remove secret inapp_identity' }).click();
    await page.getByRole('dialog').getByText('It is used by: In-app identity secret').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Secret “inapp_identity” removed.' }).waitFor();
    await page.getByText('Settings name secrets the workspace does not hold yet: inapp_identity').waitFor();
    expect((await adminApi('GET', '/v1/admin/workspace/settings')).body.secrets).toEqual([]);
    await tab.check('admin-secret-removed');
  });
  it('removes a team; a member who leads one is kept, in words; a member is marked away until a time', async () => {
    const page = tab.page;
    await page.getByRole('tab', { name: 'Teams and members' }).click();
    await page.getByRole('button', { name: 'Edit team Onboarding EMEA' }).click();
    await page.getByLabel('Lead', { exact: true }).selectOption({ label: 'Sam Lee (sam)' });
    await page.getByRole('button', { name: 'Save team' }).click();
    await page.getByRole('status').filter({ hasText: 'Team “Onboarding EMEA” saved.' }).waitFor();
    expect((await adminApi('GET', '/v1/teams/onboarding')).body.lead).toBe('sam');

    await page.getByRole('button', { name: 'Delete member Sam Lee' }).click();
    await page.getByRole('dialog', { name: 'Delete member “Sam Lee”?' }).getByRole('button', { name: 'Delete member' }).click();
    await page.getByRole('alert').filter({ hasText: 'The engine refused the change: member "sam" leads onboarding' }).waitFor();
    expect((await adminApi('GET', '/v1/members/sam')).status).toBe(200);

    await page.getByRole('button', { name: 'Delete team Sales' }).click();
    await page.getByRole('dialog', { name: 'Delete team “Sales”?' }).getByRole('button', { name: 'Delete team' }).click();
    await page.getByRole('status').filter({ hasText: 'Team “Sales” removed.' }).waitFor();
    await page.getByRole('button', { name: 'Delete team Sales' }).waitFor({ state: 'detached' });
    expect((await adminApi('GET', '/v1/teams/sales')).status).toBe(404);

    await page.getByRole('button', { name: 'Edit member Sam Lee' }).click();
    await page.getByRole('radio', { name: 'Away' }).check();
    await page.getByLabel('Back at (optional)').fill('2020-01-12T08:00');
    await page.getByRole('button', { name: 'Set availability' }).click();
    await page.getByText('must be in the future').waitFor();
    await page.getByLabel('Back at (optional)').fill('2030-01-12T08:00');
    await page.getByRole('button', { name: 'Set availability' }).click();
    await page.getByRole('status').filter({ hasText: 'Sam Lee is away until' }).waitFor();
    const until = await page.evaluate(() => new Date('2030-01-12T08:00').toISOString());
    expect((await adminApi('GET', '/v1/members/sam')).body).toMatchObject({ away: true, awayUntil: until });
    await tab.check('admin-member-away');
  });
});
