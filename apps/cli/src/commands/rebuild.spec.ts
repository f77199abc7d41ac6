import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type CustomerState, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { CUSTOMERS, customerDocId, SqliteReadModelStore } from '@journey/read-models';
import { buildProgram } from '../main';

const dir = mkdtempSync(join(tmpdir(), 'journey-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (i: number, type: string, data: Record<string, unknown>): JourneyEvent => ({
  id: `cli-${i}`,
  type,
  data,
  metadata: {
    workspaceId: 'default',
    customerId: 'u1',
    occurredAt: '2025-01-01T00:00:00Z',
    recordedAt: '2025-01-01T00:00:00Z',
    source: 'test',
    schemaVersion: 1,
  },
});

describe('journey rebuild', () => {
  it('rebuilds the read models of a data directory from its log', async () => {
    const db = openSqliteDatabase(join(dir, 'journey.db'));
    const events = new SqliteEventStore(db);
    await events.appendToStream(customerStreamId('default', 'u1'), [
      event(1, 'CustomerIdentified', { userId: 'u1', traits: {} }),
      event(2, 'StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }),
      event(3, 'InteractionRecorded', { event: 'x', properties: {} }),
    ]);
    await events.close();
    db.close();

    const logs: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(line));
    try {
      await buildProgram().parseAsync(['node', 'journey', 'rebuild', 'all', '--data-dir', dir]);
    } finally {
      log.mockRestore();
    }
    expect(logs).toEqual([
      expect.stringMatching(/^customers: rebuilt to position 3 in \d+ ms \(1 customers\); identical to the live model$/),
      expect.stringMatching(/^stage-analytics: rebuilt to position 3 in \d+ ms \(1 stage_transitions\); identical to the live model$/),
      expect.stringMatching(
        /^trigger-analytics: rebuilt to position 3 in \d+ ms \(0 messages, 0 trigger_steps, 0 trigger_runs, 0 trigger_goals, 0 trigger_holdouts, 0 trigger_shadow_messages, 0 trigger_lift\); identical to the live model$/,
      ),
      expect.stringMatching(
        /^conversation-analytics: rebuilt to position 3 in \d+ ms \(0 conversation_facts, 0 conversation_contacts, 0 conversation_messages, 0 task_facts\); identical to the live model$/,
      ),
      expect.stringMatching(
        /^work: rebuilt to position 3 in \d+ ms \(0 work, 0 work_customers, 0 work_teams\); identical to the live model$/,
      ),
      expect.stringMatching(
        /^broadcast-analytics: rebuilt to position 3 in \d+ ms \(0 broadcasts, 0 broadcast_messages\); identical to the live model$/,
      ),
      expect.stringMatching(
        /^segment-members: rebuilt to position 3 in \d+ ms \(0 segment_members, 0 segment_counts, 0 segment_totals\); identical to the live model$/,
      ),
    ]);
    const reopened = openSqliteDatabase(join(dir, 'journey-read-models.db'));
    const doc = await new SqliteReadModelStore(reopened).get<CustomerState>(CUSTOMERS, customerDocId('default', 'u1'));
    expect(doc?.doc).toMatchObject({ stage: 'active', interactions: { total: 1 } });
    reopened.close();
  });

  it('names the known projections when given an unknown one', async () => {
    await expect(buildProgram().parseAsync(['node', 'journey', 'rebuild', 'nope', '--data-dir', dir])).rejects.toThrow(
      /unknown projection "nope" \(known: customers, stage-analytics, trigger-analytics, conversation-analytics, work, broadcast-analytics, segment-members, or all\)/,
    );
  });
});
