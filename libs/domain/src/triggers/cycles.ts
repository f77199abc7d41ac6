/**
 * Trigger cycles: a trigger that emits an event that starts a trigger that ... emits an event that starts the first
 * one again, each with `reentry: every`, would run forever on one input. Such cycles are refused where they can be
 * seen: a trigger feeding its own entry at validation, a cycle across the workspace's enabled triggers when one is
 * enabled or updated. What cannot be seen (traits, stages, tasks, conditions read later) is cut at run time at
 * `MAX_CAUSAL_DEPTH` (see customer.ts). A cycle through a trigger with `reentry: once` or `oncePer` ends on its own.
 */
import { forEachStep, type Signal, type TriggerDefinition } from './schema';

/**
 * The events whose arrival can start (or arm) the trigger: its entry's event signals, counts, sums and absence
 * references (not what it waits to be absent, nor anything under `not`).
 */
export function entryEvents(signal: Signal, out = new Set<string>()): Set<string> {
  if ('event' in signal) out.add(signal.event);
  else if ('count' in signal) out.add(signal.count.event);
  else if ('sum' in signal) out.add(signal.sum.event);
  else if ('absent' in signal) out.add(signal.absent.after.event);
  else if ('reply' in signal) out.add('CustomerReplied');
  else if ('all' in signal) for (const s of signal.all) entryEvents(s, out);
  else if ('any' in signal) for (const s of signal.any) entryEvents(s, out);
  return out;
}

/**
 * The inputs a definition's steps append, each with its step's path: `emit` (`steps[2].branch.then[0].emit.event`),
 * `set` of traits (a TraitsUpdated, even when the values do not change), `task` (a CsmTaskOpened) and the conversation
 * steps (`reply`: AgentReplied, `tag`: ConversationTagged, `handoff`: ConversationStarted and ConversationAssigned,
 * `resolve`: ConversationResolved; a webhook's MessageScheduled is no input). A `set` of the
 * stage appends a StageChanged only when the stage changes, so it is left to the run-time depth limit.
 */
export function emittedEvents(definition: TriggerDefinition): Array<{ event: string; path: string }> {
  const out: Array<{ event: string; path: string }> = [];
  forEachStep(definition.steps, (step, p) => {
    if ('emit' in step) out.push({ event: step.emit.event, path: `${p}.emit.event` });
    if ('set' in step && step.set.traits) out.push({ event: 'TraitsUpdated', path: `${p}.set.traits` });
    if ('task' in step) out.push({ event: 'CsmTaskOpened', path: `${p}.task` });
    if ('reply' in step) out.push({ event: 'AgentReplied', path: `${p}.reply` });
    if ('tag' in step) out.push({ event: 'ConversationTagged', path: `${p}.tag` });
    if ('handoff' in step) {
      out.push({ event: 'ConversationStarted', path: `${p}.handoff` });
      out.push({ event: 'ConversationAssigned', path: `${p}.handoff` });
    }
    if ('resolve' in step) out.push({ event: 'ConversationResolved', path: `${p}.resolve` });
  });
  return out;
}

export interface TriggerCycle {
  /** Trigger ids from `start` back to it: `['a', 'b', 'a']`. */
  cycle: string[];
  /** The emit step of `start` that begins the cycle. */
  path: string;
  /** The event it emits. */
  event: string;
}

/** A cycle through `startId` among these (valid) definitions, following emitted events into `reentry: every` entries. */
export function findTriggerCycle(definitions: readonly TriggerDefinition[], startId: string): TriggerCycle | undefined {
  const every = definitions.filter((d) => d.reentry === 'every');
  const byId = new Map(every.map((d) => [d.id, { emits: emittedEvents(d), entry: entryEvents(d.entry) }]));
  const start = byId.get(startId);
  if (!start) return undefined;
  const next = (id: string) =>
    byId.get(id)!.emits.flatMap((e) => [...byId].filter(([, t]) => t.entry.has(e.event)).map(([to]) => ({ to, emit: e })));
  // breadth first: the shortest cycle back to the start
  const from = new Map<string, { prev: string; emit: { event: string; path: string } }>();
  const queue = [startId];
  for (let i = 0; i < queue.length; i++) {
    for (const { to, emit } of next(queue[i])) {
      if (to === startId) {
        const cycle = [startId];
        let first = emit;
        for (let at = queue[i]; at !== startId; at = from.get(at)!.prev) {
          cycle.unshift(at);
          first = from.get(at)!.emit;
        }
        cycle.unshift(startId);
        return { cycle, path: first.path, event: first.event };
      }
      if (from.has(to)) continue;
      from.set(to, { prev: queue[i], emit });
      queue.push(to);
    }
  }
  return undefined;
}

export function formatTriggerCycle(c: TriggerCycle): string {
  return c.cycle.length === 2
    ? `emits "${c.event}", which starts this trigger again (reentry: every): a trigger cannot re-trigger itself`
    : `emits "${c.event}", which starts a cycle of triggers with reentry: every: ${c.cycle.join(' → ')}`;
}
