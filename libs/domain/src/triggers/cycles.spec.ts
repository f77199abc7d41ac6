import { findTriggerCycle, formatTriggerCycle } from './cycles';
import type { TriggerDefinition } from './schema';

const trigger = (id: string, entry: string, emits: string[], reentry: TriggerDefinition['reentry'] = 'every'): TriggerDefinition => ({
  id,
  name: id,
  reentry,
  entry: { event: entry },
  steps: emits.map((event) => ({ emit: { event } })),
});

describe('findTriggerCycle', () => {
  it('given triggers that start each other with reentry every, then the shortest cycle through the start, with the emit step that begins it', () => {
    const defs = [trigger('a', 'A', ['X', 'B']), trigger('b', 'B', ['C']), trigger('c', 'C', ['A']), trigger('x', 'X', [])];
    const cycle = findTriggerCycle(defs, 'a')!;
    expect(cycle).toEqual({ cycle: ['a', 'b', 'c', 'a'], path: 'steps[1].emit.event', event: 'B' });
    expect(formatTriggerCycle(cycle)).toBe('emits "B", which starts a cycle of triggers with reentry: every: a → b → c → a');
  });

  it('given a trigger with reentry once in the cycle, or no way back to the start, then no cycle', () => {
    expect(findTriggerCycle([trigger('a', 'A', ['B']), trigger('b', 'B', ['A'], 'once')], 'a')).toBeUndefined();
    expect(findTriggerCycle([trigger('a', 'A', ['B']), trigger('b', 'B', ['C']), trigger('c', 'C', ['B'])], 'a')).toBeUndefined();
  });

  it('given a trait update or a task that starts the trigger again, then a cycle too', () => {
    const traits: TriggerDefinition = {
      id: 't',
      name: 't',
      reentry: 'every',
      entry: { event: 'TraitsUpdated' },
      steps: [{ set: { traits: { seen: true } } }],
    };
    expect(findTriggerCycle([traits], 't')).toEqual({ cycle: ['t', 't'], path: 'steps[0].set.traits', event: 'TraitsUpdated' });
    const task: TriggerDefinition = {
      id: 'k',
      name: 'k',
      reentry: 'every',
      entry: { event: 'CsmTaskOpened' },
      steps: [{ wait: { duration: '1d' } }, { task: { title: 'Call' } }],
    };
    expect(findTriggerCycle([task], 'k')?.path).toBe('steps[1].task');
  });
});
