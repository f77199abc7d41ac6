import { BadRequestException, ForbiddenException, UnprocessableEntityException } from '@nestjs/common';
import {
  latestDefinition,
  parseDuration,
  settingsFromStream,
  workspaceStreamId,
  type DryRunReport,
  type PolicyOverride,
  type TriggerDefinition,
  type TriggerState,
  type WorkspaceSettings,
} from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { runDryRun } from '@journey/reactors';
import type { Principal } from '../auth/key-store';

const DAY_MS = 86_400_000;
/** The dry-run period when neither the request nor the workspace policy names one: the last 7 days. */
export const DEFAULT_DRY_RUN_DAYS = 7;
/** Sample customer ids a dry-run keeps per list (default 5). */
export const MAX_SAMPLES = 100;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `?dryRun=true&from=&to=&force=true` of PUT /v1/triggers/:id and POST /v1/triggers/:id/enable. */
export interface ChangeOptions {
  /** Set: answer the impact, change nothing. `from`/`to` absent: the policy's period (default the last 7 days) up to now. */
  dryRun?: { from?: Date; to?: Date; samples?: number };
  /** An admin overrides a policy refusal (recorded on the event). */
  force?: boolean;
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BadRequestException(`${name}: expected true or false, got ${JSON.stringify(value)}`);
}

function time(name: string, value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new BadRequestException(
      `${name}: expected an ISO 8601 date or date-time such as 2025-01-31T00:00:00Z, got ${JSON.stringify(value)}`,
    );
  return new Date(ms);
}

/** `force` is an admin's: a 403 for any other key, whether or not the policy would have refused. */
export function checkForce(principal: Principal, options: ChangeOptions): void {
  if (options.force && principal.role !== 'admin')
    throw new ForbiddenException('force: only an admin key may override the workspace policy');
}

/** Parses the change options of a trigger write's query string; every error names its parameter. */
export function parseChangeOptions(query: Record<string, unknown> = {}): ChangeOptions {
  const dryRun = flag('dryRun', query.dryRun);
  const force = flag('force', query.force);
  const from = time('from', query.from);
  const to = time('to', query.to);
  const samples = query.samples === undefined ? undefined : Number(query.samples);
  if (samples !== undefined && !(typeof query.samples === 'string' && Number.isInteger(samples) && samples >= 0 && samples <= MAX_SAMPLES))
    throw new BadRequestException(`samples: expected a whole number from 0 to ${MAX_SAMPLES}, got ${JSON.stringify(query.samples)}`);
  if (!dryRun && (from || to || samples !== undefined))
    throw new BadRequestException('from, to, samples: only with dryRun=true (the period the dry-run replays, sample ids kept)');
  if (dryRun && force) throw new BadRequestException('force: a dry-run changes nothing, there is nothing to force');
  if (from && to && from >= to) throw new BadRequestException(`from: must be before to (${from.toISOString()} >= ${to.toISOString()})`);
  return { ...(dryRun ? { dryRun: { from, to, samples } } : {}), ...(force ? { force } : {}) };
}

/** What the workspace policy says of a change: the estimate (busiest day of the candidate's dry-run) against the limit. */
export interface PolicyVerdict {
  limit: number;
  period: string;
  estimate: { peak: number; peakDay: string | null; average: number; from: string; to: string };
  exceeded: boolean;
}

export interface TriggerImpact {
  dryRun: true;
  change: 'update' | 'enable';
  triggerId: string;
  /** `now`: the change takes effect at once (the trigger is enabled, or this enables it); `on enable`: not until enabled. */
  takesEffect: 'now' | 'on enable' | 'nothing changes';
  /** The workspace policy's verdict on the candidate, when the workspace has one (a dry-run never refuses). */
  policy?: PolicyVerdict;
  impact: DryRunReport;
}

const policyOf = (settings: WorkspaceSettings) =>
  settings.policy?.maxDailyMessagesOnEnable === undefined
    ? undefined
    : { limit: settings.policy.maxDailyMessagesOnEnable, period: settings.policy.period ?? `${DEFAULT_DRY_RUN_DAYS}d` };

function verdict(policy: { limit: number; period: string }, report: DryRunReport): PolicyVerdict {
  const day = report.messagesPerDay.candidate;
  return {
    ...policy,
    estimate: { peak: day.peak, peakDay: day.peakDay, average: day.average, from: report.from, to: report.to },
    exceeded: day.peak > policy.limit,
  };
}

/** Dry-run impact of trigger changes and the workspace policy on enables, over the event store (reads only). */
export class TriggerImpactEstimator {
  constructor(
    private readonly store: EventStore,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private async policy(workspaceId: string) {
    return policyOf(settingsFromStream(await this.store.readStream(workspaceStreamId(workspaceId))).settings);
  }

  /**
   * The impact of a change: `candidate` (version `candidateVersion`) beside what is live now (`state`'s latest version
   * when enabled; for a PUT of a disabled trigger, its latest version, the one an enable would otherwise make live).
   */
  async dryRun(
    workspaceId: string,
    change: 'update' | 'enable',
    state: TriggerState,
    candidate: { definition: TriggerDefinition; version: number },
    period: { from?: Date; to?: Date; samples?: number },
  ): Promise<TriggerImpact> {
    const policy = await this.policy(workspaceId);
    const to = period.to ?? this.clock();
    const from = period.from ?? new Date(to.getTime() - (policy ? parseDuration(policy.period)!.ms : DEFAULT_DRY_RUN_DAYS * DAY_MS));
    if (from >= to) throw new BadRequestException(`from: must be before to (${from.toISOString()} >= ${to.toISOString()})`);
    const latest = latestDefinition(state);
    const current = change === 'enable' ? (state.enabled ? latest : undefined) : latest;
    const impact = await runDryRun(this.store, {
      workspaceId,
      current: current ? { definition: current, version: state.version } : undefined,
      candidate,
      from,
      to,
      samples: period.samples,
    });
    const unchanged = change === 'enable' ? state.enabled : candidate.version === state.version;
    return {
      dryRun: true,
      change,
      triggerId: state.triggerId,
      takesEffect: unchanged ? 'nothing changes' : change === 'enable' || state.enabled ? 'now' : 'on enable',
      ...(policy ? { policy: verdict(policy, impact) } : {}),
      impact,
    };
  }

  /**
   * The policy check of a change that goes live now (`after` enabled, and newly so or at a new version): undefined when
   * admitted without override, the override to record when an admin forced it; else a 422 naming the estimate and the
   * limit.
   */
  async admit(principal: Principal, after: TriggerState, force: boolean | undefined, by: string): Promise<PolicyOverride | undefined> {
    const policy = await this.policy(principal.workspaceId);
    if (!policy) return undefined;
    const to = this.clock();
    const report = await runDryRun(this.store, {
      workspaceId: principal.workspaceId,
      candidate: { definition: latestDefinition(after)!, version: after.version },
      from: new Date(to.getTime() - parseDuration(policy.period)!.ms),
      to,
      samples: 0,
    });
    const v = verdict(policy, report);
    if (!v.exceeded) return undefined;
    if (force) return { policy: 'maxDailyMessagesOnEnable', limit: v.limit, estimate: v.estimate.peak, by };
    throw new UnprocessableEntityException({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message:
        `policy: trigger "${after.triggerId}" version ${after.version} would send an estimated ${v.estimate.peak} messages a day ` +
        `(its busiest day${v.estimate.peakDay ? `, ${v.estimate.peakDay},` : ''} in a dry-run over the last ${v.period}; ${v.estimate.average} a day on average), ` +
        `more than the workspace limit of ${v.limit} (policy.maxDailyMessagesOnEnable); an admin key can override it with ?force=true`,
      policy: v,
    });
  }
}
