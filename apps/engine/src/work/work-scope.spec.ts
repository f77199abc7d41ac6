import { BadRequestException, ForbiddenException } from '@nestjs/common';
import type { Principal } from '../auth/key-store';
import { encodeCursor, inScope, parseListQuery, parseStreamQuery, scopeOf } from './work-scope';

const csm = { workspaceId: 'w', role: 'csm', keyId: 'key_1', memberId: 'ann' } as Principal;
const memberless = { workspaceId: 'w', role: 'csm', keyId: 'key_2' } as Principal;
const admin = { workspaceId: 'w', role: 'admin', keyId: 'key_3' } as Principal;

describe('work scope', () => {
  it("gives a csm its member's items, and the queue of its own teams only", () => {
    expect(scopeOf(csm, ['support'], {})).toEqual({ assignee: 'ann', queues: [] });
    expect(scopeOf(csm, ['support'], { assignee: 'me', team: 'support' })).toEqual({ assignee: 'ann', team: 'support', queues: [] });
    expect(scopeOf(csm, ['support'], { assignee: 'ann' })).toEqual({ assignee: 'ann', queues: [] });
    expect(scopeOf(csm, ['support'], { assignee: 'none', team: 'support' })).toEqual({ assignee: '', team: 'support', queues: [] });
    expect(() => scopeOf(csm, ['support'], { assignee: 'none', team: 'sales' })).toThrow(ForbiddenException);
    expect(() => scopeOf(csm, ['support'], { assignee: 'bea' })).toThrow(ForbiddenException);
    // a csm key of no member acts as key:<keyId>
    expect(scopeOf(memberless, [], {})).toEqual({ assignee: 'key:key_2', queues: [] });
    // its stream: its items and its teams' queues
    expect(parseStreamQuery(csm, ['support', 'vip'], {})).toEqual({ assignee: 'ann', queues: ['support', 'vip'] });
  });

  it('gives admin and analyst keys any member, a team queue or the whole workspace', () => {
    expect(scopeOf(admin, [], {})).toEqual({ queues: [] });
    expect(scopeOf(admin, [], { assignee: 'bea' })).toEqual({ assignee: 'bea', queues: [] });
    expect(scopeOf(admin, [], { assignee: 'none', team: 't' })).toEqual({ assignee: '', team: 't', queues: [] });
    expect(() => scopeOf(admin, [], { assignee: 'none' })).toThrow(/needs team/);
  });

  it('parses filters, limit and cursor, and names what is wrong', () => {
    const cursor = encodeCursor('2026-03-02T11:00:00.000Z|1|2026-03-02T09:00:00.000Z|conversation:w/bob/c1');
    expect(parseListQuery(admin, [], { status: 'snoozed', priority: 'urgent', kind: 'task', limit: '500', cursor })).toEqual({
      scope: { queues: [] },
      filters: { status: 'snoozed', priority: 'urgent', kind: 'task' },
      limit: 500,
      cursor: '2026-03-02T11:00:00.000Z|1|2026-03-02T09:00:00.000Z|conversation:w/bob/c1',
    });
    expect(parseListQuery(admin, [], {}).limit).toBe(100);
    for (const [query, name] of [
      [{ status: 'closed' }, 'status'],
      [{ priority: 'p1' }, 'priority'],
      [{ kind: 'x' }, 'kind'],
      [{ limit: '1.5' }, 'limit'],
      [{ cursor: encodeCursor('nonsense') }, 'cursor'],
      [{ team: ['a', 'b'] }, 'team'],
      [{ team: '' }, 'team'],
      [{ order: 'x' }, 'order'],
    ] as const) {
      expect(() => parseListQuery(admin, [], query)).toThrow(BadRequestException);
      expect(() => parseListQuery(admin, [], query)).toThrow(name);
    }
  });

  it('says whether an item is in a scope, before or after a change', () => {
    const stream = { assignee: 'ann', queues: ['support'] };
    expect(inScope(stream, { assignee: 'ann', team: 'sales' })).toBe(true);
    expect(inScope(stream, { assignee: '', team: 'support' })).toBe(true);
    expect(inScope(stream, { assignee: '', team: 'sales' })).toBe(false);
    expect(inScope(stream, { assignee: 'bea', team: 'support' })).toBe(false);
    expect(inScope({ queues: [] }, { assignee: 'bea', team: 'x' })).toBe(true);
    expect(inScope({ team: 'x', queues: [] }, { assignee: 'bea', team: 'y' })).toBe(false);
  });
});
