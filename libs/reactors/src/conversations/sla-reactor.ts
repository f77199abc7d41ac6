import {
  SLA_SOURCE,
  decideSla,
  evolveSla,
  initialSlaState,
  isSlaInput,
  type RecordedEvent,
  type ReplayDecider,
  type SlaState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import { CustomerDecisions } from '../runtime/decider-reactor';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { Organisations, TEAMS_STREAM } from './organisations';

/**
 * Service levels (`decideSla`, `@journey/domain` conversations/sla.ts): schedules the SLA timers of conversations a
 * team holds and of CSM tasks, cancels them when met, raises `SlaBreached` and the team's escalation when one fires
 * unmet, and reopens a snoozed conversation when its snooze timer fires. The timers are events (`TimerScheduled`, fired
 * by the TimerScheduler), so a restart keeps them. Each customer's state follows the replay rule (`CustomerDecisions`);
 * the teams are read from the `teams-<workspace>` streams in log order.
 */
export class SlaReactor implements Reactor {
  readonly name = 'sla';
  readonly filter = { streamPrefixes: ['customer-', TEAMS_STREAM] };
  private readonly organisations = new Organisations();
  private readonly decisions: CustomerDecisions<SlaState>;

  constructor(options: { cacheSize?: number } = {}) {
    this.decisions = new CustomerDecisions(slaDecider(this.organisations), options.cacheSize);
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    if (events.length === 0) return [];
    await this.organisations.ready(events[0].position, ctx.store);
    this.decisions.begin(events);
    for (const event of events) {
      if (event.streamId.startsWith(TEAMS_STREAM)) this.organisations.apply(event);
      else if (ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) await this.decisions.decide(event, ctx);
    }
    return this.decisions.end(events);
  }
}

/** `decideSla` by the replay rule: its effects are the events it writes (source `sla`), folded after their cause. */
export function slaDecider(organisations: Pick<Organisations, 'get'>): ReplayDecider<SlaState> {
  return {
    initial: initialSlaState,
    evolve: evolveSla,
    isEffect: (e) => e.metadata.source === SLA_SOURCE,
    isInput: isSlaInput,
    decide: (state, event, now, folded) => {
      // its own reassignment or reopening, already folded: nothing more to decide
      if (folded) return { state, effects: [] };
      const effects = decideSla(state, event, { now, organisation: organisations.get(event.metadata.workspaceId) });
      return { state: effects.reduce(evolveSla, evolveSla(state, event)), effects };
    },
  };
}
