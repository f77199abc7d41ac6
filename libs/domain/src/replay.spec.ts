import type { JourneyEvent, RecordedEvent } from './events';
import { replayStep, replayStream, type ReplayDecider } from './replay';

/**
 * A toy reactor: a Ping is answered with a Pong that counts the Pongs the customer had before (so where the rebuild
 * folds a Pong changes what it decides) and carries the clock; a Ping with `echo` also emits an Echo, an effect that is
 * an input itself (answered with a Pong in its own turn); a Quiet is an input that decides nothing; a Note is only
 * folded. The state lists what was folded, in order.
 */
const SOURCE = 'toy';
const folded: string[] = [];
const decider: ReplayDecider<string[]> = {
  initial: () => [],
  evolve: (state, e) => [...state, `${e.type}:${e.id}`],
  isEffect: (e) => e.metadata.source === SOURCE,
  isInput: (e) => ['Ping', 'Echo', 'Quiet'].includes(e.type),
  decide: (state, e, now, inputFolded) => {
    folded.push(`${e.id}:${inputFolded}`);
    const effects: JourneyEvent[] = [];
    const seen = state.filter((s) => s.startsWith('Pong:')).length;
    if (e.type === 'Ping' || e.type === 'Echo') effects.push(effect('Pong', e, { seen, at: now.toISOString() }));
    if (e.type === 'Ping' && e.data.echo) effects.push(effect('Echo', e, {}));
    const after = inputFolded ? state : decider.evolve(state, e);
    return { state: effects.reduce(decider.evolve, after), effects };
  },
};

const T1 = new Date('2025-01-01T00:00:00.000Z');
const LATER = new Date('2025-01-02T00:00:00.000Z');
const meta = (source: string, causationId?: string) => {
  const at = T1.toISOString();
  return { workspaceId: 'w', customerId: 'c', occurredAt: at, recordedAt: at, source, schemaVersion: 1, causationId };
};
const input = (id: string, type: string, data: Record<string, unknown> = {}): JourneyEvent => ({ id, type, data, metadata: meta('test') });
function effect(type: string, cause: JourneyEvent, data: Record<string, unknown>): JourneyEvent {
  return { id: `${type.toLowerCase()}-of-${cause.id}`, type, data, metadata: meta(SOURCE, cause.id) };
}
/** The customer's stream: these events at revisions 0, 1, 2... */
const recorded = (e: JourneyEvent, i: number): RecordedEvent => ({ ...e, streamId: 'c', revision: BigInt(i), position: BigInt(i + 1) });
const stream = (...events: JourneyEvent[]): RecordedEvent[] => events.map(recorded);
/** Effects as decided, without where they landed (stored effects are answered as read from the stream). */
const plain = (appends: JourneyEvent[][]) => appends.map((es) => es.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })));
/** The state the reactor decides `e` against, rebuilt from the stream. */
const before = (events: RecordedEvent[], { id }: JourneyEvent) => {
  return replayStream(decider, events, events.find((x) => x.id === id)!.revision - 1n);
};

/** The live reactor on inputs as they arrive, deciding at `now`: its effects are folded at once (they land later). */
function live(inputs: JourneyEvent[], now = T1) {
  const replayed = { state: decider.initial(), revision: -1n };
  const appends = inputs.map((e, i) => replayStep(decider, replayed, recorded(e, i), now));
  return { state: replayed.state, appends };
}

beforeEach(() => (folded.length = 0));

describe('the replay rule (replayStream / replayStep)', () => {
  const p1 = input('p1', 'Ping');
  const p2 = input('p2', 'Ping');
  const q = input('q', 'Quiet');

  it('given effects that landed after later events of the customer, then the state before those has them right after their cause', () => {
    const { appends } = live([p1, p2]);
    const [pong1, pong2] = appends.flat();
    expect(pong2.data.seen).toBe(1); // live, p2 saw p1's Pong
    const events = stream(p1, p2, pong1, pong2, q);
    expect(before(events, p2).state).toEqual(['Ping:p1', 'Pong:pong-of-p1']);
    // each effect is folded once, with its cause, not again at its own place
    expect(before(events, q).state).toEqual(['Ping:p1', 'Pong:pong-of-p1', 'Ping:p2', 'Pong:pong-of-p2']);
    // so a rebuild decides p2 as the live reactor did: the same Pong, same id
    const rebuilt = replayStream(decider, stream(p1, p2, pong1), 0n);
    expect([replayStep(decider, rebuilt, stream(p1, p2, pong1)[1], T1)]).toEqual([[pong2]]);
    // effects decided but not stored yet (`pending`) are folded right after their cause too
    expect(replayStream(decider, stream(p1, p2), 0n, [pong1]).state).toEqual(['Ping:p1', 'Pong:pong-of-p1']);
  });

  it('given a cause whose effects landed, when replayed with a later clock, then the state before and the appends are the same', () => {
    const first = live([p1, p2]);
    const events = stream(p1, p2, ...first.appends.flat());
    // a crash before the checkpoint: the batch [p1, p2] comes again, from the state before p1
    const replayed = before(events, p1);
    expect(replayed.state).toEqual([]);
    const appends = [replayStep(decider, replayed, events[0], LATER)];
    expect(replayed).toEqual({ ...before(events, p2), stored: expect.any(Map) }); // the same state before p2 as a rebuild
    appends.push(replayStep(decider, replayed, events[1], LATER));
    expect(plain(appends)).toEqual(first.appends); // answered with the stored effects (decided at T1), not decided again
    expect(folded).toEqual(['p1:false', 'p2:false']); // the live decisions only
    expect(replayed.state).toEqual(first.state);
    expect(replayed.stored).toBeUndefined();
  });

  it('given an event without effects, then it is folded at its place, and a replay decides it again (to nothing)', () => {
    const note = input('n', 'Note');
    const first = live([q, note, p1]);
    expect(first.appends).toEqual([[], [], [expect.objectContaining({ type: 'Pong', data: expect.objectContaining({ seen: 0 }) })]]);
    const events = stream(q, note, p1, ...first.appends.flat());
    expect(before(events, p1).state).toEqual(['Quiet:q', 'Note:n']);
    const replayed = before(events, q);
    expect(plain([...replayed.stored!.values()])).toEqual([first.appends[2]]);
    expect([...replayed.stored!.keys()]).toEqual(['p1']);
    folded.length = 0;
    expect(plain(events.slice(0, 3).map((e) => replayStep(decider, replayed, e, LATER)))).toEqual(first.appends);
    expect(folded).toEqual(['q:false']); // the Quiet is decided again, the Note only folded, p1 answered from the store
    expect(replayed.state).toEqual(first.state);
  });

  it('given an effect that is an input itself, then it is folded with its cause and decided on in its own turn', () => {
    const loud = input('p', 'Ping', { echo: true });
    const first = live([loud]);
    const [pong, echo] = first.appends[0];
    expect(echo.type).toBe('Echo');
    const events = stream(loud, pong, echo);
    const replayed = before(events, echo);
    expect(replayed.state).toEqual(['Ping:p', 'Pong:pong-of-p', 'Echo:echo-of-p']);
    const answer = replayStep(decider, replayed, events[2], T1);
    expect(folded.at(-1)).toBe('echo-of-p:true');
    expect(answer).toEqual([expect.objectContaining({ id: 'pong-of-echo-of-p', data: expect.objectContaining({ seen: 1 }) })]);
    expect(replayed.state).toEqual(['Ping:p', 'Pong:pong-of-p', 'Echo:echo-of-p', 'Pong:pong-of-echo-of-p']);
  });
});
