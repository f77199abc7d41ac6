/**
 * The console's work area in a browser: a CSM works a handoff from the queue to its resolution. Seeded over HTTP only:
 * the in-app channel, a support team with an SLA, a member (away, so handoffs wait in the team's queue) with a csm key,
 * the shipped triage trigger; Bob writes unhappy from his in-app client and is handed to support.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { parse } from 'yaml';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import type { TestEngine } from '../e2e/support';
import { ConsoleTab, describeBrowser, launchBrowser, request, startConsoleEngine } from './browser';

const SECRET = 'work-console-identity-secret';
const token = (customerId: string) => createHmac('sha256', SECRET).update(customerId).digest('hex');

interface WorkItem {
  itemId: string;
  customerId: string;
  dueAt: string | null;
  assignee: string | null;
}

describeBrowser('console: a CSM working a handoff from queue to resolution', () => {
  let engine: TestEngine;
  let browser: Browser;
  let tab: ConsoleTab;
  let csmKey: string;
  /** Cara's conversation (handed to support while the queue was open). */
  let caras: string;

  const api = (method: string, path: string, body?: unknown, auth = engine.auth.admin) => request(engine, method, path, { body, auth });
  /** The customer writes from their in-app client. */
  async function customerWrites(customerId: string, body: string): Promise<string> {
    const res = await fetch(`${engine.url}/v1/client/default/conversations`, {
      method: 'POST',
      headers: { 'x-customer-id': customerId, 'x-customer-token': token(customerId), 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { conversationId: string }).conversationId;
  }
  /** The support team's queue as the CSM's key reads it, once the handoff of `conversationId` is in it. */
  const queued = (conversationId: string) =>
    eventually(async () => {
      const work = await api('GET', '/v1/work?assignee=none&team=support', undefined, csmKey);
      expect(work.status).toBe(200);
      const item = (work.body.items as WorkItem[]).find((i) => i.itemId === conversationId);
      expect(item).toBeDefined();
      expect(item!.dueAt).not.toBeNull();
      return item!;
    }, 10_000);

  beforeAll(async () => {
    engine = await startConsoleEngine();
    browser = await launchBrowser();
    tab = await ConsoleTab.open(browser, engine.url, 'work');

    expect((await api('PUT', '/v1/admin/workspace/secrets/inapp_identity', { value: SECRET })).status).toBe(204);
    expect(
      (await api('PUT', '/v1/admin/workspace/settings', { inApp: { allowedOrigins: [], identitySecret: 'inapp_identity' } })).status,
    ).toBe(200);
    const team = { name: 'Support', timeZone: 'UTC', sla: { high: { firstResponse: '4h', resolution: '2d' } } };
    expect((await api('PUT', '/v1/teams/support', team)).status).toBe(200);
    expect((await api('PUT', '/v1/members/ann', { name: 'Ann', teams: ['support'] })).status).toBe(200);
    // away: the handoff is not given to her, it waits in the team's queue for someone to take it
    expect((await api('PUT', '/v1/members/ann/availability', { away: true })).status).toBe(200);
    const created = await api('POST', '/v1/admin/keys', { role: 'csm', name: 'Ann', memberId: 'ann' });
    expect(created.status).toBe(201);
    csmKey = `Bearer ${created.body.key as string}`;
    const triage = parse(readFileSync(join(__dirname, '../../triggers/library/support-reply-triage.yaml'), 'utf8')) as unknown;
    expect((await api('POST', '/v1/triggers', triage)).status).toBe(201);
    expect((await api('POST', '/v1/triggers/support-reply-triage/enable')).status).toBe(200);
    for (const [userId, traits] of [
      ['bob', { name: 'Bob', plan: 'pro' }],
      ['cara', { name: 'Cara', plan: 'starter' }],
    ] as const)
      expect((await api('POST', '/v1/identify', { userId, traits }, engine.auth.write)).status).toBe(200);
    expect((await api('POST', '/v1/track', { userId: 'bob', event: 'Report Exported' }, engine.auth.write)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await tab?.close();
    await browser?.close();
    await engine?.close();
  });

  it('takes the handoff from the queue, notes, assigns, replies and resolves; a new message arrives live', async () => {
    const conversationId = await customerWrites('bob', 'This is terrible, the export is broken again and I lost my data');
    const item = await queued(conversationId);
    expect(item.assignee).toBeNull();

    // the queue: the team's unassigned items, the handoff with its SLA counting down by the second
    await tab.signIn(csmKey.slice('Bearer '.length));
    const page = tab.page;
    await page.getByRole('heading', { name: 'Work', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByLabel('Whose work').selectOption({ label: 'Unassigned in support' });
    const row = page.locator(`tr[data-item="${conversationId}"]`);
    await row.waitFor();
    const sla = row.locator('.sla');
    const first = await sla.textContent();
    // 4 business hours of the team's SLA: a countdown to the due time the engine set, by the second
    expect(first).toMatch(/^due in (\d+ d \d+ h|\d+ h \d\d min \d\d s)$/);
    await expect(sla.locator('time').getAttribute('datetime')).resolves.toBe(item.dueAt);
    await eventually(async () => expect(await sla.textContent()).not.toBe(first), 5_000, 100);
    await expect(row.getByRole('rowheader').textContent()).resolves.toContain('bob');
    await tab.check('queue');

    // while the queue is open, Cara writes: her handoff appears without a reload
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    caras = await customerWrites('cara', 'Awful, I am angry: the app is broken and nothing works');
    await page.locator(`tr[data-item="${caras}"]`).waitFor({ timeout: 15_000 });
    await expect(page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    await tab.check('queue-live');

    // the conversation: the thread and the customer's context beside it
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Conversation with bob', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Thread' }).waitFor();
    await page.getByText('the export is broken again').waitFor();
    const context = page.getByRole('complementary');
    await context.getByText('pro', { exact: true }).waitFor();
    await context.getByText('Report Exported').waitFor();
    await expect(context.getByRole('link', { name: "Open the customer's profile" }).getAttribute('href')).resolves.toBe('/customers/bob');
    await tab.check('conversation');

    // an internal note, marked as one
    await page.getByLabel('Note (only colleagues see it)').fill('Checked the backup job: it failed on Monday');
    await page.getByRole('button', { name: 'Add internal note' }).click();
    const note = page.locator('.run.from-note').filter({ hasText: 'Checked the backup job' });
    await note.waitFor();
    await expect(note.textContent()).resolves.toContain('Internal note by ann');

    // assign to me, then reply
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByTestId('conversation-assignee').filter({ hasText: /^ann$/ }).waitFor();
    await page.getByLabel('Reply', { exact: true }).fill('Sorry Bob, we are restoring your export now.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.locator('.run.from-agent').filter({ hasText: 'restoring your export' }).waitFor();
    await tab.check('conversation-worked');

    await page.getByRole('button', { name: 'Resolve' }).click();
    await page
      .getByTestId('conversation-status')
      .filter({ hasText: /^resolved$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    await tab.check('conversation-resolved');

    // the engine recorded it all, as Ann's
    const after = await api('GET', `/v1/customers/bob/conversations/${conversationId}`, undefined, csmKey);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: 'resolved', assignee: 'ann', resolvedBy: 'ann' });
    const thread = after.body.thread as Array<{ from: string; body: string; by?: string }>;
    expect(thread).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: 'agent', body: 'Sorry Bob, we are restoring your export now.', by: 'ann' }),
        expect.objectContaining({ from: 'note', body: 'Checked the backup job: it failed on Monday', by: 'ann' }),
      ]),
    );
    // out of the team's queue
    const work = await api('GET', '/v1/work?assignee=none&team=support', undefined, csmKey);
    expect((work.body.items as WorkItem[]).map((i) => i.itemId)).not.toContain(conversationId);
  }, 60_000);

  it('refuses an action on a stale version in words, and shows the conversation as it is now', async () => {
    // Cara's conversation is given to Bea: out of Ann's queue, so Ann's open page hears nothing of what happens to it
    expect((await api('PUT', '/v1/members/bea', { name: 'Bea', teams: [] })).status).toBe(200);
    const path = `/v1/customers/cara/conversations/${caras}`;
    expect((await api('POST', `${path}/assign`, { assignee: 'bea' })).status).toBe(200);
    const page = tab.page;
    await tab.goto(`/work/customers/cara/conversations/${caras}`);
    await page.getByText('nothing works').waitFor();
    await page.getByTestId('conversation-assignee').filter({ hasText: /^bea$/ }).waitFor();
    // a colleague (the admin) notes something meanwhile: the version Ann's page read is stale
    expect((await api('POST', `${path}/notes`, { body: 'Colleague was here' })).status).toBe(200);
    await page.getByLabel('Reply', { exact: true }).fill('Hello Cara');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone changed this conversation since you read it' }).waitFor();
    await page.getByText('Colleague was here').waitFor();
    await tab.check('conflict');
    const now = await api('GET', path, undefined, csmKey);
    expect((now.body.thread as Array<{ body: string }>).map((t) => t.body)).not.toContain('Hello Cara');
  }, 30_000);

  it('opens a task from the queue and closes it with an outcome', async () => {
    const trigger = {
      id: 'call-back',
      name: 'Call back',
      entry: { event: 'Call Requested' },
      steps: [{ task: { title: 'Call Bob back about the export', owner: 'ann', priority: 'high', due: '1d' } }],
    };
    expect((await api('POST', '/v1/triggers', trigger)).status).toBe(201);
    expect((await api('POST', '/v1/triggers/call-back/enable')).status).toBe(200);
    expect((await api('POST', '/v1/track', { userId: 'bob', event: 'Call Requested' }, engine.auth.write)).status).toBe(200);
    const task = await eventually(async () => {
      const items = (await api('GET', '/v1/work?kind=task', undefined, csmKey)).body.items as WorkItem[];
      expect(items).toHaveLength(1);
      return items[0];
    }, 10_000);

    const page = tab.page;
    await tab.goto('/work');
    const row = page.locator(`tr[data-item="${task.itemId}"]`);
    await row.waitFor();
    await expect(row.locator('.sla').textContent()).resolves.toMatch(/^due in (2\d h \d\d min \d\d s|1 d 0 h)$/);
    await row.getByRole('link', { name: 'Call Bob back about the export' }).click();
    await page.getByRole('heading', { name: 'Task: Call Bob back about the export', level: 1 }).waitFor();
    await page.getByTestId('task-owner').filter({ hasText: /^ann$/ }).waitFor();
    await page.getByRole('complementary').getByText('pro', { exact: true }).waitFor();
    await tab.check('task');

    await page.getByLabel('Outcome (what came of it)').fill('Called Bob: the export works again');
    await page.getByRole('button', { name: 'Close task' }).click();
    await page.getByRole('status').filter({ hasText: 'Task closed with the outcome' }).waitFor();
    await tab.check('task-closed');

    const context = await api('GET', '/v1/customers/bob/context', undefined, csmKey);
    expect((context.body.openTasks as Array<{ taskId: string }>).map((t) => t.taskId)).not.toContain(task.itemId);
    const timeline = await api('GET', '/v1/customers/bob/timeline', undefined, csmKey);
    expect(JSON.stringify(timeline.body)).toContain('Called Bob: the export works again');
  }, 30_000);
});
