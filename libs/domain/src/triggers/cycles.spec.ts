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
});
