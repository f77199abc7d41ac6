import { envelope } from './envelope';
import type { JourneyEvent } from './events';
import { Upcasters } from './upcasters';

const at = '2026-01-01T00:00:00.000Z';
const stored = (type: string, data: Record<string, unknown>, schemaVersion: number): JourneyEvent => ({
  id: 'e1',
  type,
  data,
  metadata: { workspaceId: 'w', customerId: 'c', occurredAt: at, recordedAt: at, source: 'test', schemaVersion },
});

describe('Upcasters', () => {
  const split = {
    type: 'Named',
    fromVersion: 1,
    upcast: (d: Record<string, unknown>) => ({ first: String(d.name).split(' ')[0], last: String(d.name).split(' ')[1] }),
  };
  const join = { type: 'Named', fromVersion: 2, upcast: (d: Record<string, unknown>) => ({ fullName: `${d.first} ${d.last}` }) };

  it('names the current version of each type: one past its last upcaster, 1 without upcasters', () => {
    const upcasters = Upcasters.of([join, split]);
    expect(upcasters.currentVersion('Named')).toBe(3);
    expect(upcasters.currentVersion('Other')).toBe(1);
    expect(Upcasters.of([]).currentVersion('Named')).toBe(1);
  });

  it('runs every step from the stored version up to the current one, and none on a current event', () => {
    const upcasters = Upcasters.of([split, join]);
    expect(upcasters.upcast(stored('Named', { name: 'Ada Lovelace' }, 1))).toMatchObject({
      data: { fullName: 'Ada Lovelace' },
      metadata: { schemaVersion: 3 },
    });
    expect(upcasters.upcast(stored('Named', { first: 'Ada', last: 'L' }, 2)).data).toEqual({ fullName: 'Ada L' });
    const current = stored('Named', { fullName: 'Ada' }, 3);
    expect(upcasters.upcast(current)).toBe(current);
  });

  it('refuses two upcasters for the same step, and names a missing step when reading', () => {
    expect(() => Upcasters.of([split, { ...split }])).toThrow('two upcasters for Named from schema version 1');
    expect(() => Upcasters.of([{ ...split, fromVersion: 0 }])).toThrow(/fromVersion must be an integer >= 1/);
    expect(() => Upcasters.of([join]).upcast(stored('Named', {}, 1))).toThrow('no upcaster for Named from schema version 1');
  });

  it('is a value: two sets do not see each other', () => {
    const a = Upcasters.of([split]);
    Upcasters.of([split, join]);
    expect(a.currentVersion('Named')).toBe(2);
  });
});

describe('envelope', () => {
  const base = {
    id: 'x',
    type: 'Thing',
    data: { n: 1 },
    workspaceId: 'w',
    customerId: 'c',
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  };

  it('copies causation and correlation from the cause (its id when it has no correlation)', () => {
    const cause = stored('Cause', {}, 1);
    expect(envelope({ ...base, cause }).metadata).toEqual({
      workspaceId: 'w',
      customerId: 'c',
      occurredAt: at,
      recordedAt: at,
      causationId: 'e1',
      correlationId: 'e1',
      source: 'test',
      schemaVersion: 1,
    });
    const correlated = { ...cause, metadata: { ...cause.metadata, correlationId: 'corr' } };
    expect(envelope({ ...base, cause: correlated }).metadata).toMatchObject({ causationId: 'e1', correlationId: 'corr' });
  });

  it('without a cause: the given correlation only, and no causation key', () => {
    expect(envelope({ ...base, correlationId: 'msg-1' }).metadata).toStrictEqual({
      workspaceId: 'w',
      customerId: 'c',
      occurredAt: at,
      recordedAt: at,
      correlationId: 'msg-1',
      source: 'test',
      schemaVersion: 1,
    });
    expect(envelope(base)).toStrictEqual({
      id: 'x',
      type: 'Thing',
      data: { n: 1 },
      metadata: { workspaceId: 'w', customerId: 'c', occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
    });
  });
});
