import 'reflect-metadata';
import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { CommandBus, CqrsModule, QueryBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { triggerStreamId } from '@journey/domain';
import { EVENT_STORE, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import type { Principal } from '../auth/key-store';
import { BacktestTriggerHandler, BacktestTriggerQuery } from '../backtest/backtest-trigger.query';
import { DefineTriggerCommand, DefineTriggerHandler } from './define-trigger.command';
import { DisableTriggerCommand, DisableTriggerHandler } from './disable-trigger.command';
import { EnableTriggerCommand, EnableTriggerHandler } from './enable-trigger.command';
import { GetTriggerHandler, GetTriggerQuery } from './get-trigger.query';
import { ListTriggersHandler, ListTriggersQuery } from './list-triggers.query';
import { TriggersService } from './triggers.service';
import { UpdateTriggerCommand, UpdateTriggerHandler } from './update-trigger.command';

const CSM: Principal = { workspaceId: 'ws', role: 'csm', keyId: 'k1' };
const thanks = (body = 'Thanks!') => ({
  id: 'thanks',
  name: 'Thanks',
  entry: { event: 'Plan Upgraded' },
  steps: [{ send: { channel: 'inbox', body } }],
});

describe('trigger commands and queries on the buses', () => {
  let store: SqliteEventStore;
  let commands: CommandBus;
  let queries: QueryBus;

  beforeEach(async () => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    const moduleRef = await Test.createTestingModule({
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EVENT_STORE, useValue: store },
        TriggersService,
        DefineTriggerHandler,
        UpdateTriggerHandler,
        EnableTriggerHandler,
        DisableTriggerHandler,
        ListTriggersHandler,
        GetTriggerHandler,
        BacktestTriggerHandler,
      ],
    }).compile();
    await moduleRef.init();
    commands = moduleRef.get(CommandBus);
    queries = moduleRef.get(QueryBus);
  });

  afterEach(async () => store.close());

  it('defines, versions, enables and disables a trigger through the decider, one event per change', async () => {
    expect(await commands.execute(new DefineTriggerCommand(CSM, thanks()))).toEqual({
      id: 'thanks',
      name: 'Thanks',
      version: 1,
      enabled: false,
      changed: true,
    });
    expect(await commands.execute(new UpdateTriggerCommand(CSM, 'thanks', thanks()))).toMatchObject({ version: 1, changed: false });
    expect(await commands.execute(new UpdateTriggerCommand(CSM, 'thanks', thanks('Thanks again!'), 1))).toMatchObject({
      version: 2,
      changed: true,
    });
    expect(await commands.execute(new EnableTriggerCommand(CSM, 'thanks', 2))).toMatchObject({ version: 2, enabled: true, changed: true });
    expect(await commands.execute(new DisableTriggerCommand(CSM, 'thanks'))).toMatchObject({ enabled: false, changed: true });
    expect((await store.readStream(triggerStreamId('ws', 'thanks'))).map((e) => e.type)).toEqual([
      'TriggerDefined',
      'TriggerDefined',
      'TriggerEnabled',
      'TriggerDisabled',
    ]);
    expect(await queries.execute(new ListTriggersQuery('ws'))).toEqual({
      triggers: [{ id: 'thanks', name: 'Thanks', version: 2, enabled: false, everEnabled: true }],
    });
    const detail = await queries.execute(new GetTriggerQuery('ws', 'thanks', 1));
    expect(detail).toMatchObject({ shownVersion: 1, version: 2, definition: thanks() });
    expect(detail.versions.map((v) => [v.version, v.definedBy])).toEqual([
      [1, 'http:csm'],
      [2, 'http:csm'],
    ]);
  });

  it('maps the decider and the stream to 400, 404 and 409', async () => {
    await expect(commands.execute(new DefineTriggerCommand(CSM, { id: 'x' }))).rejects.toThrow(BadRequestException);
    await expect(commands.execute(new UpdateTriggerCommand(CSM, 'thanks', thanks()))).rejects.toThrow(NotFoundException);
    await expect(commands.execute(new EnableTriggerCommand(CSM, 'thanks'))).rejects.toThrow(NotFoundException);
    await commands.execute(new DefineTriggerCommand(CSM, thanks()));
    await expect(commands.execute(new DefineTriggerCommand(CSM, thanks()))).rejects.toThrow(ConflictException);
    await expect(commands.execute(new EnableTriggerCommand(CSM, 'thanks', 3))).rejects.toThrow(
      'If-Match: trigger "thanks" is at version 1, not 3',
    );
    await expect(queries.execute(new GetTriggerQuery('ws', 'thanks', 2))).rejects.toThrow(NotFoundException);
    await expect(queries.execute(new GetTriggerQuery('other', 'thanks'))).rejects.toThrow(NotFoundException);
  });

  it('backtests a draft or the stored trigger, refusing a draft of another id or a missing one', async () => {
    await expect(queries.execute(new BacktestTriggerQuery('ws', undefined, {}))).rejects.toThrow('definition: is required');
    await expect(queries.execute(new BacktestTriggerQuery('ws', 'thanks', {}))).rejects.toThrow(NotFoundException);
    await expect(queries.execute(new BacktestTriggerQuery('ws', 'thanks', { definition: { ...thanks(), id: 'other' } }))).rejects.toThrow(
      'definition.id: expected "thanks" (the trigger in the path), got "other"',
    );
    await expect(queries.execute(new BacktestTriggerQuery('ws', undefined, { definition: { id: 'x' } }))).rejects.toThrow(
      BadRequestException,
    );
    await commands.execute(new DefineTriggerCommand(CSM, thanks()));
    const report = await queries.execute(new BacktestTriggerQuery('ws', 'thanks', {}));
    expect(report).toMatchObject({ triggerId: 'thanks', version: 1 });
  });
});
