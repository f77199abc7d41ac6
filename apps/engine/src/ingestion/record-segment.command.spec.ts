import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { customerStreamId, identityStreamId } from '@journey/domain';
import { IdentityDirectory } from '@journey/reactors';
import { EVENT_STORE, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';
import { IngestionService } from './ingestion.service';
import { RecordSegmentBatchCommand, RecordSegmentBatchHandler } from './record-segment-batch.command';
import { RecordSegmentCallCommand, RecordSegmentCallHandler } from './record-segment-call.command';

describe('recording Segment calls through the CommandBus', () => {
  let store: SqliteEventStore;
  let commands: CommandBus;
  let metrics: Metrics;

  beforeEach(async () => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    const moduleRef = await Test.createTestingModule({
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EVENT_STORE, useValue: store },
        { provide: IdentityDirectory, useFactory: () => new IdentityDirectory(store) },
        Metrics,
        HealthChecks,
        IngestionService,
        RecordSegmentCallHandler,
        RecordSegmentBatchHandler,
      ],
    }).compile();
    await moduleRef.init();
    commands = moduleRef.get(CommandBus);
    metrics = moduleRef.get(Metrics);
  });

  afterEach(async () => store.close());

  const outcomes = async () => Object.fromEntries((await metrics.ingestRequests.get()).values.map((v) => [v.labels.outcome, v.value]));

  it('stores a call in its customer stream, the type given by the path', async () => {
    expect(
      await commands.execute(new RecordSegmentCallCommand('ws', 'track', { userId: 'u1', event: 'Signed Up', messageId: 'm1' })),
    ).toEqual({ success: true });
    const [event] = await store.readStream(customerStreamId('ws', 'u1'));
    expect(event).toMatchObject({
      type: 'InteractionRecorded',
      data: { event: 'Signed Up' },
      metadata: { workspaceId: 'ws', customerId: 'u1', source: 'http' },
    });
    await expect(commands.execute(new RecordSegmentCallCommand('ws', 'track', { userId: 'u1' }))).rejects.toThrow('event must be a string');
    expect(await outcomes()).toEqual({ accepted: 1, rejected: 1 });
  });

  it('stores the valid calls of a batch and reports the others by index; none valid is a 400 listing ten and a count', async () => {
    const outcome = await commands.execute(
      new RecordSegmentBatchCommand('ws', {
        batch: [
          { type: 'identify', userId: 'u2' },
          { type: 'track', userId: 'u2' },
        ],
      }),
    );
    expect(outcome).toEqual({
      success: true,
      accepted: 1,
      rejected: [{ index: 1, errors: [{ path: 'event', message: 'event must be a string' }] }],
    });
    expect(await store.readStream(customerStreamId('ws', 'u2'))).toHaveLength(1);
    const invalid = Array.from({ length: 12 }, () => ({ type: 'track', userId: 'u3' }));
    const rejection = commands.execute(new RecordSegmentBatchCommand('ws', { batch: invalid }));
    await expect(rejection).rejects.toThrow(BadRequestException);
    await expect(rejection).rejects.toThrow(
      /^no valid call in the batch: batch\[0\]: event must be a string; .*batch\[9\]: event must be a string; and 2 more$/,
    );
    await expect(commands.execute(new RecordSegmentBatchCommand('ws', { batch: [] }))).rejects.toThrow(
      'batch must be a non-empty array of Segment calls',
    );
    expect(await outcomes()).toEqual({ partial: 1, rejected: 2 });
  });

  describe('merging identities (#12)', () => {
    const call = (type: 'track' | 'identify' | 'alias', body: Record<string, unknown>) =>
      commands.execute(new RecordSegmentCallCommand('ws', type, body));
    const stream = async (id: string) => (await store.readStream(customerStreamId('ws', id))).map((e) => [e.type, e.metadata.customerId]);
    const claim = async (id: string) => (await store.readStream(identityStreamId('ws', id))).map((e) => [e.type, e.data.userId]);

    it('claims an alias (the merge reactor copies), then routes calls under the merged id to the user', async () => {
      await call('track', { anonymousId: 'a1', event: 'Feature Used' });
      expect(await call('alias', { previousId: 'a1', userId: 'u1' })).toEqual({ success: true });
      expect(await claim('a1')).toEqual([['IdentityMergeStarted', 'u1']]);
      await call('track', { anonymousId: 'a1', event: 'Feature Used', messageId: 'late' });
      const [merged, routed] = await store.readStream(customerStreamId('ws', 'u1'));
      expect(merged).toMatchObject({ type: 'IdentitiesMerged', data: { previousId: 'a1', userId: 'u1' }, metadata: { source: 'http' } });
      expect(routed).toMatchObject({ type: 'InteractionRecorded', metadata: { customerId: 'u1', routedFrom: 'a1' } });
      expect(await stream('a1')).toEqual([['InteractionRecorded', 'a1']]);
      // the same alias again: accepted, nothing new recorded
      expect(await call('alias', { previousId: 'a1', userId: 'u1' })).toEqual({ success: true });
      expect(await claim('a1')).toHaveLength(1);
    });

    it('answers 400 for an alias of an id into itself, into a second customer, or of a customer others were merged into', async () => {
      await expect(call('alias', { previousId: 'u1', userId: 'u1' })).rejects.toThrow('previousId and userId are the same ("u1")');
      await call('alias', { previousId: 'a1', userId: 'u1' });
      await expect(call('alias', { previousId: 'a1', userId: 'u2' })).rejects.toThrow('previousId "a1" is already merged into "u1"');
      await expect(call('alias', { previousId: 'u1', userId: 'u2' })).rejects.toThrow(BadRequestException);
      await expect(call('alias', { previousId: 'u1', userId: 'u2' })).rejects.toThrow('would make a chain');
      expect(await claim('u2')).toEqual([]);
    });

    it('merges on an identify naming a known anonymousId, and not one never seen', async () => {
      await call('identify', { userId: 'u9', anonymousId: 'never-seen' });
      expect(await claim('never-seen')).toEqual([]);
      await call('track', { anonymousId: 'a2', event: 'Page Opened' });
      await call('identify', { userId: 'u2', anonymousId: 'a2', traits: { plan: 'pro' } });
      expect(await claim('a2')).toEqual([['IdentityMergeStarted', 'u2']]);
      expect(await stream('u2')).toEqual([
        ['CustomerIdentified', 'u2'],
        ['IdentitiesMerged', 'u2'],
      ]);
    });

    it('merges on an identify whose anonymousId is named earlier in the same batch (not stored yet)', async () => {
      await commands.execute(
        new RecordSegmentBatchCommand('ws', {
          batch: [
            { type: 'page', anonymousId: 'first-visit', name: 'Home' },
            { type: 'identify', userId: 'signed-up', anonymousId: 'first-visit' },
            { type: 'track', anonymousId: 'first-visit', event: 'Clicked' },
          ],
        }),
      );
      expect(await claim('first-visit')).toEqual([['IdentityMergeStarted', 'signed-up']]);
      expect(await stream('first-visit')).toEqual([['PageViewed', 'first-visit']]);
      expect(await stream('signed-up')).toEqual([
        ['CustomerIdentified', 'signed-up'],
        ['IdentitiesMerged', 'signed-up'],
        ['InteractionRecorded', 'signed-up'],
      ]);
    });

    it('keeps a merge in the workspace of the key: the same ids in another workspace are other customers', async () => {
      await call('track', { anonymousId: 'a1', event: 'Visited' });
      await call('alias', { previousId: 'a1', userId: 'u1' });
      await commands.execute(new RecordSegmentCallCommand('ws-2', 'track', { anonymousId: 'a1', event: 'Visited' }));
      await commands.execute(new RecordSegmentCallCommand('ws-2', 'alias', { previousId: 'u1', userId: 'u2' })); // no chain there
      expect((await store.readStream(customerStreamId('ws-2', 'a1'))).map((e) => e.metadata.customerId)).toEqual(['a1']);
      expect((await store.readStream(identityStreamId('ws-2', 'u1'))).map((e) => e.type)).toEqual(['IdentityMergeStarted']);
      expect(identityStreamId('ws-2', 'u1')).toBe('identity-ws%2D2-u1');
    });

    it('reports a refused alias of a batch by its index and stores the rest, in order, routed', async () => {
      const outcome = await commands.execute(
        new RecordSegmentBatchCommand('ws', {
          batch: [
            { type: 'track', anonymousId: 'b1', event: 'Before' },
            { type: 'alias', previousId: 'b1', userId: 'ub' },
            { type: 'track' },
            { type: 'alias', previousId: 'ub', userId: 'ub' },
            { type: 'track', anonymousId: 'b1', event: 'After' },
          ],
        }),
      );
      expect(outcome).toMatchObject({ accepted: 3, rejected: [{ index: 2 }, { index: 3, errors: [{ path: 'previousId' }] }] });
      expect(await stream('b1')).toEqual([['InteractionRecorded', 'b1']]);
      expect(await stream('ub')).toEqual([
        ['IdentitiesMerged', 'ub'],
        ['InteractionRecorded', 'ub'],
      ]);
    });
  });
});
