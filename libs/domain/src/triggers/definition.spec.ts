import type { JourneyEvent } from '../events';
import {
  decideTrigger,
  evolveTrigger,
  initialTriggerState,
  TriggerCommandError,
  type TriggerCommand,
  type TriggerState,
} from './definition';
import { InvalidTriggerError } from './validate';

const doc = (subject: string) => ({
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'CustomerIdentified' },
  steps: [{ send: { channel: 'email', subject, body: 'Welcome!' } }],
});
const ctx = { workspaceId: 'ws', now: new Date('2025-03-01T10:00:00Z') };

function given(...commands: TriggerCommand[]): { state: TriggerState; events: JourneyEvent[] } {
  let state = initialTriggerState('welcome');
  const events: JourneyEvent[] = [];
  for (const c of commands)
    for (const e of decideTrigger(c, state, ctx)) {
      events.push(e);
      state = evolveTrigger(state, e);
    }
  return { state, events };
}

describe('trigger definition decider', () => {
  it('given nothing, when defined, then TriggerDefined version 1 (disabled until enabled)', () => {
    const { state, events } = given({ type: 'DefineTrigger', definition: doc('Hi') });
    expect(events.map((e) => [e.type, e.data.version])).toEqual([['TriggerDefined', 1]]);
    expect(state.enabled).toBe(false);
  });

  it('given a definition, when updated, then version 2 and version 1 stays readable', () => {
    const { state, events } = given(
      { type: 'DefineTrigger', definition: doc('Hi') },
      { type: 'EnableTrigger' },
      { type: 'DefineTrigger', definition: doc('Hello') },
    );
    expect(events.map((e) => e.type)).toEqual(['TriggerDefined', 'TriggerEnabled', 'TriggerDefined']);
    expect(state.version).toBe(2);
    expect(state.enabled).toBe(true);
    expect((state.definitions[1].steps[0] as { send: { subject: string } }).send.subject).toBe('Hi');
    expect((state.definitions[2].steps[0] as { send: { subject: string } }).send.subject).toBe('Hello');
  });

  it('when the same document is defined again (keys reordered), then nothing changes', () => {
    const reordered = { steps: doc('Hi').steps, entry: doc('Hi').entry, name: 'Welcome', id: 'welcome' };
    const { events } = given({ type: 'DefineTrigger', definition: doc('Hi') }, { type: 'DefineTrigger', definition: reordered });
    expect(events).toHaveLength(1);
  });

  it('enable/disable are idempotent and each toggle gets its own id', () => {
    const { events, state } = given(
      { type: 'DefineTrigger', definition: doc('Hi') },
      { type: 'EnableTrigger' },
      { type: 'EnableTrigger' },
      { type: 'DisableTrigger' },
      { type: 'DisableTrigger' },
      { type: 'EnableTrigger' },
    );
    expect(events.map((e) => e.type)).toEqual(['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled', 'TriggerEnabled']);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    expect(state.enabled).toBe(true);
  });

  it('rejects an invalid document with every error, an id mismatch, and enabling an undefined trigger', () => {
    const state = initialTriggerState('welcome');
    expect(() => decideTrigger({ type: 'DefineTrigger', definition: { ...doc('Hi'), steps: [] } }, state, ctx)).toThrow(
      InvalidTriggerError,
    );
    expect(() => decideTrigger({ type: 'DefineTrigger', definition: { ...doc('Hi'), id: 'other' } }, state, ctx)).toThrow(
      /id: expected "welcome"/,
    );
    expect(() => decideTrigger({ type: 'EnableTrigger' }, state, ctx)).toThrow(TriggerCommandError);
  });
});
