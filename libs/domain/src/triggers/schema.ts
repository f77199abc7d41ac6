/**
 * The trigger language: the document a CSM writes (JSON, or the same as YAML for triggers kept in git).
 * `validateTrigger` checks an unknown document against these shapes; `compileTrigger` turns a valid one into closures.
 */
import type { Properties, Stage, Traits } from '../events';

/** A duration like `30s`, `30m`, `12h`, `3d`, `2w`; signed (`-30d`) where an offset is expected. */
export type Duration = string;
export type Scalar = string | number | boolean | null;

/** Operators on one property. A bare scalar means `equals`. Dates: ISO strings, or `+90d`/`-7d` relative to now. */
export interface FilterOps {
  equals?: Scalar;
  notEquals?: Scalar;
  in?: Scalar[];
  notIn?: Scalar[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  before?: string;
  after?: string;
  exists?: boolean;
  contains?: Scalar;
}
/** Property path (dots for nesting) -> filter. */
export type PropertyFilters = Record<string, Scalar | FilterOps>;

/** An event occurs: a track call's name, or an engine event type (`CustomerIdentified`, `StageChanged`, ...). */
export interface EventSignal {
  event: string;
  where?: PropertyFilters;
}
export interface WindowAggregate extends EventSignal {
  within: Duration;
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  eq?: number;
}

/**
 * A customer's reply (`CustomerReplied`). `channel`: where they wrote (`inbox`, `email`, ...; one or a list);
 * `contains`: words or phrases, whole words, case-insensitive, any of them; `sentiment`: the reply's VADER compound
 * score in [-1, 1] compared (scored when the reply was recorded; a reply without a score matches no comparison).
 */
export interface ReplySignal {
  channel?: string | string[];
  contains?: string | string[];
  sentiment?: { lt?: number; lte?: number; gt?: number; gte?: number };
}

export type Signal =
  | EventSignal
  /** `event` did not happen within `for` after the reference event `after` (temporal). */
  | { absent: EventSignal & { for: Duration; after: EventSignal } }
  /** No activity for the duration (temporal). */
  | { inactive: { for: Duration } }
  /** Count of matching events in the sliding window, compared. */
  | { count: WindowAggregate }
  /** Sum of a numeric property of matching events in the sliding window, compared. */
  | { sum: WindowAggregate & { property: string } }
  /** Count in the last `window` fell below `below` x the customer's own average over the `baseline` before it. */
  | { usageDrop: { event?: string; window: Duration; baseline: Duration; below: number } }
  /**
   * `offset` (e.g. `-30d`) from a date trait or event property, at local time `at` (default 09:00) in the customer's
   * time zone (temporal).
   */
  | { date: { trait?: string; event?: string; property?: string; offset: Duration; at?: string } }
  | { stage: { entered?: Stage; left?: Stage } }
  | { inStage: Stage | Stage[] }
  /** A trait changed (on identify / trait update), optionally to a value matching `to`. */
  | { trait: { name: string; to?: Scalar | FilterOps } }
  | { traits: PropertyFilters }
  /** The customer replied in a conversation (a `CustomerReplied`), on a channel, with words, with a sentiment. */
  | { reply: ReplySignal }
  /** The customer entered or left a named segment (a SegmentEntered / SegmentLeft). */
  | { segment: { entered?: string; left?: string } }
  /** The customer is in the segment (any of them, given a list) now. */
  | { inSegment: string | string[] }
  /** Traits of the customer's accounts (group calls): true when one of the linked accounts matches every filter. */
  | { account: PropertyFilters }
  | { all: Signal[] }
  | { any: Signal[] }
  | { not: Signal };

export type Step =
  | { wait: { duration: Duration } }
  | { wait: { until: Signal; timeout: Duration; onEvent?: Step[]; onTimeout?: Step[] } }
  | { branch: { if: Signal; then?: Step[]; else?: Step[] } }
  /** A/B split: stable per customer; `holdout` percent receive nothing. */
  | { split: { holdout?: number; variants: Array<{ name: string; weight: number; steps: Step[] }> } }
  /** `body`/`subject` are Liquid templates rendered by the dispatcher. `topic` is checked against consent. */
  | { send: { channel: string; body: string; subject?: string; to?: string; topic?: string; template?: { id: string; version: number } } }
  | { task: { title: string; owner?: string; priority?: TaskPriority; due?: Duration; closeOn?: Signal } }
  | { set: { stage?: Stage; traits?: Traits } }
  | { emit: { event: string; properties?: Properties } }
  | { exit: { reason?: string } }
  /**
   * Conversation steps: they act in the run's conversation (the one of the reply that started or last advanced the
   * run). `reply`: an automated answer (an AgentReplied), its body a Liquid template with a send's scope and bounds,
   * rendered when it is decided (`template-error` when it does not render), never in a conversation a person holds (a
   * MessageSuppressed with reason `held-by-person` instead).
   * `tag`: tags it. `handoff`: queues it for a team (a ConversationAssigned without assignee; the assignment reactor
   * picks the member); outside a conversation it starts one first (in-app, the trigger's name as subject). `resolve`:
   * resolves it, unless a person holds it.
   */
  | { reply: { body: string } }
  | { tag: { tags: string[] } }
  | { handoff: { team: string; priority?: TaskPriority } }
  | { resolve: Record<string, never> | null }
  /**
   * An HTTP request (to a CRM, a ticketing tool, Slack): `url`, header values and `body` are Liquid templates rendered
   * at send time; `{{ secrets.NAME }}` names a workspace secret, resolved only then (never in the trigger document).
   */
  | { webhook: WebhookStep };

export const WEBHOOK_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];
export interface WebhookStep {
  url: string;
  /** Default POST. */
  method?: WebhookMethod;
  headers?: Record<string, string>;
  /** Default: empty. */
  body?: string;
}

/**
 * Visits every step, nested ones too (a wait's `onEvent`/`onTimeout`, a branch's `then`/`else`, a split's variants),
 * in document order, with its path (`steps[2].branch.then[0]`). The one walk over steps: a new step that holds steps
 * is added here.
 */
export function forEachStep(steps: Step[] | undefined, visit: (step: Step, path: string) => void, path = 'steps'): void {
  (steps ?? []).forEach((step, i) => {
    const p = `${path}[${i}]`;
    visit(step, p);
    if ('wait' in step && 'until' in step.wait) {
      forEachStep(step.wait.onEvent, visit, `${p}.wait.onEvent`);
      forEachStep(step.wait.onTimeout, visit, `${p}.wait.onTimeout`);
    }
    if ('branch' in step) {
      forEachStep(step.branch.then, visit, `${p}.branch.then`);
      forEachStep(step.branch.else, visit, `${p}.branch.else`);
    }
    if ('split' in step) step.split.variants.forEach((v, j) => forEachStep(v.steps, visit, `${p}.split.variants[${j}].steps`));
  });
}

export type TaskPriority = 'low' | 'normal' | 'high' | 'urgent';
export const TASK_PRIORITIES: readonly TaskPriority[] = ['low', 'normal', 'high', 'urgent'];

export interface FrequencyCap {
  max: number;
  per: Duration;
  /** customer: all messages; channel: messages on the send's channel; trigger: messages of this trigger. */
  scope: 'customer' | 'channel' | 'trigger';
}

export interface Guards {
  frequencyCaps?: FrequencyCap[];
  /**
   * Local times `HH:MM` in the customer's time zone; sends inside are deferred to `end`, not dropped. Unset: the
   * workspace's default quiet hours (its settings' `quietHours`), if any; `none`: no quiet hours, not even the default.
   */
  quietHours?: { start: string; end: string } | 'none';
}

export type Reentry = 'once' | 'every' | { oncePer: Duration };

export interface TriggerDefinition {
  id: string;
  name: string;
  description?: string;
  /** Higher wins when several triggers send on the same event (the others' sends are suppressed). Default 0. */
  priority?: number;
  entry: Signal;
  /**
   * Keyed runs: a property path of the entry event (`properties.cartId`) whose value keys the run: one run (and one
   * re-entry rule) per value instead of per customer. An event carrying the property moves only its value's run; one
   * without it (an unsubscribe, a timer) is seen by every run of the trigger.
   */
  key?: string;
  /** Default `once`. */
  reentry?: Reentry;
  /** Events older than this (event time vs now) never start a run (backfills). Default `7d`. */
  maxEventAge?: Duration;
  steps: Step[];
  /** Goal / exit rules: a matching event ends an active run (e.g. `converted`). */
  exit?: Array<{ when: Signal; reason?: string }>;
  guards?: Guards;
}
