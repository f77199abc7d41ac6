import { describe, expect, it } from 'vitest';
import { checkSegmentId, definitionToYaml, errorsOf, locateErrors, parsePath, parseSegmentYaml } from './segment-doc';
import {
  broadcastFormProblems,
  broadcastRequest,
  broadcastWhen,
  countsSummary,
  dayBefore,
  formatOffset,
  guardsText,
  reasons,
  type BroadcastForm,
} from './shape';

const DOC = 'name: Active pro\nconditions:\n  all:\n    - traits: { plan: pro }\n    - count: { event: X, within: soon, gte: 1 }\n';

describe('segment documents', () => {
  it('reads a YAML mapping, and names the line of a syntax error', () => {
    const ok = parseSegmentYaml(DOC);
    expect(ok).toEqual({
      ok: true,
      value: { name: 'Active pro', conditions: { all: [{ traits: { plan: 'pro' } }, { count: { event: 'X', within: 'soon', gte: 1 } }] } },
    });
    const bad = parseSegmentYaml('name: x\nconditions:\n  traits: { plan: pro\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0].line).toBeGreaterThanOrEqual(3);
    const list = parseSegmentYaml('- a\n- b\n');
    expect(list.ok).toBe(false);
    if (!list.ok) expect(list.problems[0].message).toContain('mapping');
  });

  it("puts the engine's errors at the line of the path they name, or of its nearest ancestor", () => {
    expect(parsePath('conditions.all[1].count.within')).toEqual(['conditions', 'all', 1, 'count', 'within']);
    const [within, missing, general] = locateErrors(DOC, [
      'conditions.all[1].count.within: expected a duration like "3d", got "soon"',
      'conditions.all[0].traits.seats: not there',
      'invalid segment',
    ]);
    expect(within.line).toBe(5);
    expect(DOC.slice(within.from, within.to)).toBe('within');
    expect(missing.line).toBe(4);
    expect(general.line).toBe(1);
  });

  it('writes a definition back as YAML without its id, and checks ids', () => {
    const yaml = definitionToYaml({ id: 'pro', name: 'Pro', conditions: { traits: { plan: 'pro' } } });
    expect(yaml).not.toContain('id:');
    expect(parseSegmentYaml(yaml)).toEqual({ ok: true, value: { name: 'Pro', conditions: { traits: { plan: 'pro' } } } });
    expect(checkSegmentId('pro-2_x')).toBeUndefined();
    expect(checkSegmentId('')).toContain('required');
    expect(checkSegmentId('a b')).toContain('not an id');
    expect(errorsOf({ errors: ['a: x', 'b: y'] }, 'z')).toEqual(['a: x', 'b: y']);
    expect(errorsOf({ message: 'm' }, 'fallback')).toEqual(['fallback']);
  });
});

const FORM: BroadcastForm = {
  id: '',
  segmentId: 'pro',
  channel: 'inbox',
  subject: '',
  body: 'Hi',
  topic: '',
  when: 'now',
  time: '',
};

describe('broadcast requests', () => {
  it('sends now without a time, leaving out empty optional fields', () => {
    expect(broadcastRequest(FORM)).toEqual({ segmentId: 'pro', send: { channel: 'inbox', body: 'Hi' } });
    expect(broadcastRequest({ ...FORM, id: ' dec ', subject: 'S', topic: 'news' })).toEqual({
      id: 'dec',
      segmentId: 'pro',
      send: { channel: 'inbox', body: 'Hi', subject: 'S', topic: 'news' },
    });
  });
  it("an instant carries the browser's offset; a local time is sent as the wall-clock time", () => {
    expect(broadcastRequest({ ...FORM, when: 'at', time: '2026-12-10T09:00', offsetMinutes: 60 })).toMatchObject({
      at: '2026-12-10T09:00:00+01:00',
    });
    expect(broadcastRequest({ ...FORM, when: 'at', time: '2026-12-10T09:00', offsetMinutes: -330 }).at).toBe('2026-12-10T09:00:00-05:30');
    const local = broadcastRequest({ ...FORM, when: 'local', time: '2026-12-10T09:00' });
    expect(local).toMatchObject({ localTime: '2026-12-10T09:00' });
    expect(local).not.toHaveProperty('at');
    expect(formatOffset(0)).toBe('+00:00');
  });
  it('adds a frequency cap and quiet hours as guards when given, and says them in words', () => {
    expect(broadcastRequest({ ...FORM, capMax: '1', capPer: '', quietStart: '21:00', quietEnd: '08:00' }).guards).toEqual({
      frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }],
      quietHours: { start: '21:00', end: '08:00' },
    });
    expect(broadcastRequest({ ...FORM, capMax: ' ' })).not.toHaveProperty('guards');
    expect(broadcastFormProblems({ ...FORM, capMax: 'two', quietStart: '21:00' })).toEqual([
      'the frequency cap: a whole number of messages',
      'quiet hours: give both the start and the end',
    ]);
    expect(guardsText({ frequencyCaps: [{ max: 2, per: '7d', scope: 'channel' }], quietHours: { start: '21:00', end: '08:00' } })).toBe(
      "at most 2 per 7d per channel; quiet from 21:00 to 08:00 (customer's time)",
    );
    expect(guardsText({})).toBe('none');
  });

  it('names what the form lacks', () => {
    expect(broadcastFormProblems(FORM)).toEqual([]);
    expect(broadcastFormProblems({ ...FORM, segmentId: '', body: ' ', when: 'local', id: 'a b' })).toEqual([
      'choose a segment',
      'write the message body',
      'the id: letters, digits, - and _ (at most 64)',
      'choose the date and time',
    ]);
  });
  it('says when and what was suppressed', () => {
    expect(broadcastWhen({ at: '', localTime: '2026-12-10T09:00', startAt: 'x' })).toBe("2026-12-10 09:00 in each customer's time zone");
    expect(broadcastWhen({ at: '2026-12-10T08:00:00.000Z', localTime: '', startAt: 'x' })).toBe('at 2026-12-10T08:00:00.000Z');
    expect(broadcastWhen({ at: '', localTime: '', startAt: '2026-12-10T08:00:00.000Z' }, (iso) => iso.slice(11, 16))).toBe('now (08:00)');
    expect(reasons({ consent: 1, 'frequency-cap': 2, x: 0 })).toBe('consent 1, frequency-cap 2');
    expect(reasons({})).toBe('none');
  });
});

describe('counts', () => {
  it('summarises the members over the period for the chart', () => {
    const days = [
      { day: '2026-12-01', entered: 2, left: 0, members: 2 },
      { day: '2026-12-02', entered: 3, left: 0, members: 5 },
      { day: '2026-12-03', entered: 0, left: 4, members: 1 },
    ];
    expect(countsSummary(days)).toBe(
      'Members per day from 2026-12-01 to 2026-12-03: 2 at the start, 1 at the end, at most 5 on 2026-12-02; 5 entered and 4 left in the period.',
    );
    expect(countsSummary([])).toContain('no days');
    expect(dayBefore('2026-03-01', 1)).toBe('2026-02-28');
  });
});
