import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  InvalidTriggerError,
  canonicalJson,
  TriggerCommandError,
  decideTrigger,
  evolveTrigger,
  findTriggerCycle,
  formatTriggerCycle,
  formatValidationError,
  initialTriggerState,
  latestDefinition,
  triggerStreamId,
  validateTrigger,
  type RecordedEvent,
  type TriggerCommand,
  type TriggerDefinition,
  type TriggerState,
} from '@journey/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@journey/event-store';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import type { Principal } from '../auth/key-store';
import { TriggerImpactEstimator, type ChangeOptions, type TriggerImpact } from './trigger-impact';

export interface TriggerSummary {
  id: string;
  name: string;
  version: number;
  enabled: boolean;
}

/** A trigger in the list: never enabled (`everEnabled: false`) is a draft. */
export interface TriggerListItem extends TriggerSummary {
  everEnabled: boolean;
}

export interface TriggerVersionInfo {
  version: number;
  definedAt: string;
  definedBy: string;
}

export interface TriggerDetail extends TriggerSummary {
  /** The version whose definition is shown (the latest unless `?version=` asked for another). */
  shownVersion: number;
  definition: TriggerDefinition;
  versions: TriggerVersionInfo[];
}

/** A command result: the trigger after it, and whether it appended anything (same document again / already enabled: no). */
export interface TriggerChange extends TriggerSummary {
  changed: boolean;
}

const DEFINITION_TYPES = ['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled'];
/** Without If-Match, a command that lost a race re-reads the stream and decides again, this many times. */
const RETRIES = 3;

/**
 * Trigger definitions through the definition decider: each command reads the trigger stream, decides, and appends
 * with the stream's revision as expected revision (optimistic concurrency: a concurrent writer gets a 409).
 */
/** Who a trigger change is recorded as: `http:<role>`, and the key's member when it has one (`http:csm:ann`). */
const definedBy = (principal: Principal) => `http:${principal.role}${principal.memberId !== undefined ? `:${principal.memberId}` : ''}`;

@Injectable()
export class TriggersService {
  private readonly impact: TriggerImpactEstimator;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.impact = new TriggerImpactEstimator(store);
  }

  /**
   * `?dryRun=true` of PUT (a document: the next version) and enable (the latest version): the impact beside what is live
   * now, changing nothing. Validated as the write would be (400 naming the field, 404 for an unknown trigger).
   */
  async dryRun(
    principal: Principal,
    triggerId: string,
    change: { type: 'update'; document: unknown } | { type: 'enable' },
    period: NonNullable<ChangeOptions['dryRun']>,
    ifMatch?: number,
  ): Promise<TriggerImpact> {
    const { state } = await this.load(principal.workspaceId, triggerId);
    if (state.version === 0) throw notFound(triggerId);
    if (ifMatch !== undefined && ifMatch !== state.version)
      throw new ConflictException(`If-Match: trigger "${triggerId}" is at version ${state.version}, not ${ifMatch}`);
    if (change.type === 'enable')
      return this.impact.dryRun(
        principal.workspaceId,
        'enable',
        state,
        { definition: latestDefinition(state)!, version: state.version },
        period,
      );
    const definition = validDocument(change.document);
    if (definition.id !== triggerId) throw invalid([`id: expected "${triggerId}" (the trigger being defined), got "${definition.id}"`]);
    const same = canonicalJson(definition) === canonicalJson(latestDefinition(state));
    return this.impact.dryRun(
      principal.workspaceId,
      'update',
      state,
      { definition, version: same ? state.version : state.version + 1 },
      period,
    );
  }

  /** Every trigger, with whether it was ever enabled (never: a draft). */
  async list(workspaceId: string): Promise<TriggerListItem[]> {
    const everEnabled = new Set<string>();
    const states = await this.states(workspaceId, (e) => {
      if (e.type === 'TriggerEnabled') everEnabled.add(String(e.data.triggerId));
    });
    return [...states.values()]
      .map((state) => ({ ...summary(state), everEnabled: everEnabled.has(state.triggerId) }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private async states(workspaceId: string, seen?: (e: RecordedEvent) => void): Promise<Map<string, TriggerState>> {
    const events = await this.store.readAll({
      filter: { streamPrefixes: [triggerStreamId(workspaceId, '')], eventTypes: DEFINITION_TYPES },
    });
    const states = new Map<string, TriggerState>();
    for (const e of events) {
      if (e.metadata.workspaceId !== workspaceId) continue; // `trigger-a-` is also the prefix of workspace `a-b`'s streams
      const id = String(e.data.triggerId);
      states.set(id, evolveTrigger(states.get(id) ?? initialTriggerState(id), e));
      seen?.(e);
    }
    return states;
  }

  /**
   * Enabling a trigger, or a new version of an enabled one, must not close a cycle of `reentry: every` triggers with
   * the workspace's enabled ones (each emitting an event that starts the next): a 400 naming the emit step and the
   * cycle. (Two concurrent enables may still close one; the run-time depth limit cuts it.)
   */
  private async refuseCycle(workspaceId: string, after: TriggerState): Promise<void> {
    const definitions = [...(await this.states(workspaceId)).values()]
      .filter((t) => t.enabled && t.triggerId !== after.triggerId)
      .map((t) => latestDefinition(t)!);
    const cycle = findTriggerCycle([...definitions, latestDefinition(after)!], after.triggerId);
    if (cycle) throw invalid([`${cycle.path}: ${formatTriggerCycle(cycle)}`]);
  }

  async get(workspaceId: string, triggerId: string, version?: number): Promise<TriggerDetail> {
    const { state, events } = await this.load(workspaceId, triggerId);
    if (state.version === 0) throw notFound(triggerId);
    const shown = version ?? state.version;
    const definition = state.definitions[shown];
    if (!definition) throw new NotFoundException(`version: trigger "${triggerId}" has versions 1 to ${state.version}, not ${shown}`);
    const versions = events
      .filter((e) => e.type === 'TriggerDefined')
      .map((e) => ({ version: Number(e.data.version), definedAt: e.metadata.recordedAt, definedBy: e.metadata.source }));
    return { ...summary(state), shownVersion: shown, definition, versions };
  }

  /**
   * The write path of every trigger command: load the trigger's stream, call the definition decider, append with the
   * stream's revision as expected revision. Without If-Match, a command that lost a race decides again.
   */
  async decideAndAppend(
    principal: Principal,
    triggerId: string,
    command: TriggerCommand,
    options: { mustExist: boolean; ifMatch?: number; force?: boolean },
  ): Promise<TriggerChange> {
    for (let attempt = 1; ; attempt++) {
      const { state } = await this.load(principal.workspaceId, triggerId);
      if (options.mustExist && state.version === 0) throw notFound(triggerId);
      if (!options.mustExist && state.version > 0)
        throw new ConflictException(
          `id: trigger "${triggerId}" already exists (version ${state.version}); PUT /v1/triggers/${triggerId} adds a version`,
        );
      if (options.ifMatch !== undefined && options.ifMatch !== state.version)
        throw new ConflictException(`If-Match: trigger "${triggerId}" is at version ${state.version}, not ${options.ifMatch}`);
      let events;
      try {
        events = decideTrigger(command, state, { workspaceId: principal.workspaceId, now: new Date(), by: definedBy(principal) });
      } catch (error) {
        if (error instanceof InvalidTriggerError) throw invalid(error.errors.map(formatValidationError));
        if (error instanceof TriggerCommandError) throw error.code === 'not_found' ? notFound(triggerId) : invalid([error.message]);
        throw error;
      }
      if (events.length === 0) return { ...summary(state), changed: false };
      const after = events.reduce(evolveTrigger, state);
      if (after.enabled) await this.refuseCycle(principal.workspaceId, after);
      // live at once (enabled now, or a new version of an enabled trigger): the workspace policy's estimate
      if (after.enabled && (!state.enabled || after.version !== state.version)) {
        const policyOverride = await this.impact.admit(principal, after, options.force, definedBy(principal));
        if (policyOverride)
          events = events.map((e) =>
            e.type === 'TriggerEnabled' || e.type === 'TriggerDefined' ? ({ ...e, data: { ...e.data, policyOverride } } as typeof e) : e,
          );
      }
      // The decider's event ids derive from the revision, so a writer that lost the race either fails the expected
      // revision or (same ids as the winner's events) writes nothing: both are a conflict.
      const written = await this.store
        .appendToStream(triggerStreamId(principal.workspaceId, triggerId), events, {
          expectedRevision: state.revision === 0 ? 'no_stream' : BigInt(state.revision - 1),
        })
        .then(
          (r) => r.written === events.length,
          (error: unknown) => {
            if (error instanceof WrongExpectedRevisionError) return false;
            throw error;
          },
        );
      if (written) return { ...summary(after), changed: true };
      if (options.ifMatch !== undefined || attempt >= RETRIES)
        throw new ConflictException(`trigger "${triggerId}" was changed concurrently; read it again and retry`);
    }
  }

  private async load(workspaceId: string, triggerId: string): Promise<{ state: TriggerState; events: RecordedEvent[] }> {
    const events = await this.store.readStream(triggerStreamId(workspaceId, triggerId));
    return { state: events.reduce(evolveTrigger, initialTriggerState(triggerId)), events };
  }
}

function summary(state: TriggerState): TriggerSummary {
  return { id: state.triggerId, name: state.definitions[state.version]?.name ?? '', version: state.version, enabled: state.enabled };
}

export function validDocument(document: unknown): TriggerDefinition {
  const result = validateTrigger(document, TRIGGER_VALIDATION);
  if (!result.ok) throw invalid(result.errors.map(formatValidationError));
  return result.definition;
}

function invalid(errors: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `invalid trigger: ${errors.join('; ')}`, errors });
}

function notFound(triggerId: string): NotFoundException {
  return new NotFoundException(`trigger "${triggerId}" not found`);
}
