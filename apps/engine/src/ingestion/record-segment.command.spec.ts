import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { customerStreamId } from '@journey/domain';
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
});
