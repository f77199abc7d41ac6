import {
  TRIGGER_BOOKKEEPING_TYPES,
  TRIGGER_SOURCE,
  decideForCustomer,
  evolveTrigger,
  initialTriggerState,
  triggerProgram,
  type CompiledTrigger,
  type JourneyEvent,
  type RecordedEvent,
  type TriggerProgram,
  type TriggerState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';

const TRIGGER_STREAM = 'trigger-';
const DEFINITION_TYPES = new Set(['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled']);

interface Loaded {
  state: TriggerState;
  compiled: Map<number, CompiledTrigger>;
  program?: TriggerProgram;
}

/**
 * Runs the customers' journeys through the triggers, push-based: for every event of an owned customer it runs every
 * trigger of the workspace (`decideForCustomer`: entry conditions, active runs, guards) and returns what they decided.
 *
 * Trigger definitions come from the trigger streams, in log order, so a replay decides with the versions that were
 * current then. A customer's history is the stream as it stood before the event: the events that precede it in the
 * log, plus the trigger events caused by those (wherever they landed in the stream). A replay after a crash therefore
 * decides the same events with the same ids (the store skips them); an event whose effects are already stored is
 * skipped. Within a batch, a customer's stream is read once and carried forward in memory.
 */
export class TriggerReactor implements Reactor {
  readonly name = 'triggers';
  readonly filter = { streamPrefixes: ['customer-', TRIGGER_STREAM] };
  private readonly triggers = new Map<string, Map<string, Loaded>>();
  private loadedUpTo?: bigint;

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    if (events.length === 0) return [];
    if (this.loadedUpTo === undefined) await this.loadDefinitions(events[0].position, ctx);
    const streams = new Map<string, RecordedEvent[]>();
    const appends: AppendRequest[] = [];
    for (const event of events) {
      if (event.streamId.startsWith(TRIGGER_STREAM)) {
        this.applyDefinition(event);
        continue;
      }
      if (TRIGGER_BOOKKEEPING_TYPES.has(event.type) || !ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) continue;
      const programs = this.programs(event.metadata.workspaceId);
      if (programs.length === 0) continue;
      let stream = streams.get(event.streamId);
      if (!stream) streams.set(event.streamId, (stream = await ctx.store.readStream(event.streamId)));
      if (stream.some((e) => e.metadata.source === TRIGGER_SOURCE && e.metadata.causationId === event.id)) continue;
      const decided = decideForCustomer(programs, historyBefore(stream, event), event, ctx.now());
      if (decided.length === 0) continue;
      stream.push(...decided.map((e) => ({ ...e, streamId: event.streamId, revision: -1n, position: -1n })));
      appends.push({ streamId: event.streamId, events: decided, expectedRevision: 'any' });
    }
    return appends;
  }

  /** The enabled triggers of a workspace (and disabled ones with versions, so their active runs can be ended). */
  private programs(workspaceId: string): TriggerProgram[] {
    const out: TriggerProgram[] = [];
    for (const t of this.triggers.get(workspaceId)?.values() ?? []) {
      t.program ??= triggerProgram(t.state, t.compiled);
      out.push(t.program);
    }
    return out;
  }

  private async loadDefinitions(before: bigint, ctx: ReactorContext): Promise<void> {
    const defs = await ctx.store.readAll({ filter: { streamPrefixes: [TRIGGER_STREAM], eventTypes: [...DEFINITION_TYPES] } });
    for (const e of defs) if (e.position < before) this.applyDefinition(e);
    this.loadedUpTo = before;
  }

  private applyDefinition(event: JourneyEvent): void {
    if (!DEFINITION_TYPES.has(event.type)) return;
    const workspaceId = event.metadata.workspaceId;
    const triggerId = String(event.data.triggerId);
    let ws = this.triggers.get(workspaceId);
    if (!ws) this.triggers.set(workspaceId, (ws = new Map()));
    const t = ws.get(triggerId) ?? { state: initialTriggerState(triggerId), compiled: new Map() };
    ws.set(triggerId, { state: evolveTrigger(t.state, event), compiled: t.compiled });
  }
}

/** The customer's stream as it stood before `input`: earlier events by log position, plus trigger events caused by them. */
export function historyBefore(stream: readonly RecordedEvent[], input: RecordedEvent): JourneyEvent[] {
  const positions = new Map(stream.map((e) => [e.id, e.position]));
  return stream.filter((e) => {
    if (e.id === input.id) return false;
    if (e.metadata.source !== TRIGGER_SOURCE) return e.position < input.position;
    const cause = positions.get(e.metadata.causationId ?? '');
    return cause !== undefined && cause < input.position;
  });
}
