import { describe, expect, it } from 'vitest';
import { errorMessage, withQuery } from './api';
import { toCsv } from './csv';
import { formatDuration } from './format';
import { parseSse } from './live';
import { can } from './permissions';

describe('api', () => {
  it('builds a query string leaving out empty values and repeating arrays', () => {
    expect(withQuery('/v1/customers', { q: 'ad', stage: '', limit: 50, trait: ['plan:pro', 'role:admin'], x: undefined })).toBe(
      '/v1/customers?q=ad&limit=50&trait=plan%3Apro&trait=role%3Aadmin',
    );
  });
  it("takes an error's words from the engine's body", () => {
    expect(errorMessage(400, { statusCode: 400, message: 'limit: must be 1 to 500' })).toBe('limit: must be 1 to 500');
    expect(errorMessage(400, { message: ['a is wrong', 'b is wrong'] })).toBe('a is wrong; b is wrong');
    expect(errorMessage(502, '')).toBe('the engine answered 502');
    expect(errorMessage(0, undefined)).toContain('cannot be reached');
  });
});

describe('live', () => {
  it('parses SSE blocks, keeps the unfinished rest and drops comments', () => {
    const { events, rest, retry } = parseSse(
      'retry: 2000\nevent: ready\ndata: {}\n\n: heartbeat\n\nid: 7\nevent: work\ndata: {"a":\ndata: 1}\n\nevent: wo',
    );
    expect(events).toEqual([
      { event: 'ready', data: '{}' },
      { event: 'work', data: '{"a":\n1}', id: '7' },
    ]);
    expect(rest).toBe('event: wo');
    expect(retry).toBe(2000);
  });
});

describe('permissions', () => {
  it('lets an analyst see but not work, edit or administer', () => {
    expect(['view', 'work', 'editTriggers', 'editSegments', 'admin'].map((a) => can('analyst', a as never))).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(can('csm', 'editTriggers')).toBe(true);
    expect(can('csm', 'admin')).toBe(false);
    expect(can('admin', 'admin')).toBe(true);
    expect(can(undefined, 'view')).toBe(false);
  });
});

describe('csv and formats', () => {
  it('quotes fields that need it', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          [1, null],
        ],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n1,\r\n');
  });
  it('says durations as a person would', () => {
    expect([45, 90, 7200, 90000, -300].map(formatDuration)).toEqual(['45 s', '1 min 30 s', '2 h', '1 d 1 h', '5 min']);
  });
});
