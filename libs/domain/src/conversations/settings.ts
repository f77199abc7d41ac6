/**
 * A workspace's settings and named secrets, as events on `workspace-<workspace>`: the in-app identity secret and
 * allowed origins, the email reply domain, the Slack webhook and signing secret, the change policy, the default quiet
 * hours of sends (`quietHours`, see `checkGuards`), and the secrets webhook steps name
 * (`{{ secrets.crm_token }}`). Settings refer to secrets by name; an answer never holds a secret's value. Pure.
 */
import { escapeWorkspaceId, typed, type EventDataByType, type JourneyEvent, type TypedEvent } from '../events';
import { parseClock, parseDuration } from '../triggers/time';
import { workspaceEvents, type WorkspaceSettings } from './types';

export const workspaceStreamId = (workspaceId: string): string => `workspace-${escapeWorkspaceId(workspaceId)}`;

export type SettingsEvent = TypedEvent<'WorkspaceSettingsChanged' | 'WorkspaceSecretSet' | 'WorkspaceSecretRemoved'>;

export interface SettingsState {
  settings: WorkspaceSettings;
  secrets: Map<string, string>;
  revision: number;
}

export const initialSettings = (): SettingsState => ({ settings: {}, secrets: new Map(), revision: 0 });

export function evolveSettings(state: SettingsState, event: JourneyEvent): SettingsState {
  const e = typed(event);
  switch (e.type) {
    case 'WorkspaceSettingsChanged':
      return { ...state, settings: e.data.settings, revision: state.revision + 1 };
    case 'WorkspaceSecretSet':
      return { ...state, secrets: new Map(state.secrets).set(e.data.name, e.data.value), revision: state.revision + 1 };
    case 'WorkspaceSecretRemoved': {
      const secrets = new Map(state.secrets);
      secrets.delete(e.data.name);
      return { ...state, secrets, revision: state.revision + 1 };
    }
    default:
      return state;
  }
}

export const settingsFromStream = (events: Iterable<JourneyEvent>): SettingsState => {
  let state = initialSettings();
  for (const e of events) state = evolveSettings(state, e);
  return state;
};

/** The value of the secret a setting names (undefined when the setting or the secret is missing). */
export const secretNamed = (state: SettingsState, name: string | undefined): string | undefined =>
  name === undefined ? undefined : state.secrets.get(name);

/** Secret names: letters, digits and `_`, starting with a letter, at most 64 characters (usable in Liquid). */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const MAX_SECRET_LENGTH = 4096;

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function section<K extends keyof WorkspaceSettings>(
  doc: Record<string, unknown>,
  key: K,
  fields: Record<string, 'secret' | 'string' | 'origins'>,
): WorkspaceSettings[K] | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new SettingsError(`${key}: must be an object`);
  const out: Record<string, unknown> = {};
  for (const [field, v] of Object.entries(value)) {
    const kind = fields[field];
    if (!kind) throw new SettingsError(`${key}.${field}: unknown setting (known: ${Object.keys(fields).join(', ')})`);
    if (kind === 'origins') {
      if (!Array.isArray(v) || v.some((o) => typeof o !== 'string' || !/^https?:\/\/[^/\s]+$/.test(o)))
        throw new SettingsError(`${key}.${field}: must be a list of origins like "https://app.example.com" (scheme and host, no path)`);
      out[field] = v;
    } else if (kind === 'secret') {
      if (typeof v !== 'string' || !SECRET_NAME.test(v))
        throw new SettingsError(`${key}.${field}: must name a secret (${SECRET_NAME.source}), got ${JSON.stringify(v)}`);
      out[field] = v;
    } else {
      if (typeof v !== 'string' || v.trim() === '') throw new SettingsError(`${key}.${field}: must be a non-empty string`);
      out[field] = v;
    }
  }
  if (key === 'inApp' && out.allowedOrigins === undefined) out.allowedOrigins = [];
  return out as WorkspaceSettings[K];
}

/** Longest dry-run period a policy may ask for (each enable replays it). */
export const MAX_POLICY_PERIOD_DAYS = 90;

function policySection(value: unknown): WorkspaceSettings['policy'] | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new SettingsError('policy: must be an object');
  const out: NonNullable<WorkspaceSettings['policy']> = {};
  for (const [field, v] of Object.entries(value)) {
    if (field === 'maxDailyMessagesOnEnable') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1e9)
        throw new SettingsError(`policy.maxDailyMessagesOnEnable: must be a whole number from 0 to 1000000000, got ${JSON.stringify(v)}`);
      out.maxDailyMessagesOnEnable = v;
    } else if (field === 'period') {
      const d = parseDuration(v);
      if (!d || d.ms < 86_400_000 || d.ms > MAX_POLICY_PERIOD_DAYS * 86_400_000)
        throw new SettingsError(
          `policy.period: must be a duration from 1d to ${MAX_POLICY_PERIOD_DAYS}d such as "7d", got ${JSON.stringify(v)}`,
        );
      out.period = v as string;
    } else throw new SettingsError(`policy.${field}: unknown setting (known: maxDailyMessagesOnEnable, period)`);
  }
  return out;
}

function quietHoursSection(value: unknown): WorkspaceSettings['quietHours'] | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new SettingsError('quietHours: must be an object { start, end } of local times like "21:00"');
  for (const field of Object.keys(value))
    if (field !== 'start' && field !== 'end') throw new SettingsError(`quietHours.${field}: unknown setting (known: start, end)`);
  for (const field of ['start', 'end'] as const) {
    const v = value[field];
    if (v === undefined)
      throw new SettingsError(`quietHours.${field}: is required (a local time like "${field === 'start' ? '21:00' : '08:00'}")`);
    if (typeof v !== 'string' || !parseClock(v))
      throw new SettingsError(`quietHours.${field}: expected a local time like "21:00", got ${JSON.stringify(v)}`);
  }
  return { start: value.start as string, end: value.end as string };
}

/** Checks a settings document; every error names its field. */
export function validSettings(doc: unknown): WorkspaceSettings {
  if (!isRecord(doc)) throw new SettingsError('settings: must be an object');
  const known = ['inApp', 'email', 'slack', 'policy', 'quietHours'];
  const unknownKey = Object.keys(doc).find((k) => !known.includes(k));
  if (unknownKey) throw new SettingsError(`${unknownKey}: unknown section (known: ${known.join(', ')})`);
  const settings: WorkspaceSettings = {};
  const inApp = section(doc, 'inApp', { allowedOrigins: 'origins', identitySecret: 'secret' });
  const email = section(doc, 'email', { replyDomain: 'string', inboundSecret: 'secret', replySecret: 'secret' });
  const slack = section(doc, 'slack', { webhookUrl: 'secret', signingSecret: 'secret' });
  if (inApp) settings.inApp = inApp;
  if (email) settings.email = email;
  if (slack) settings.slack = slack;
  const policy = policySection(doc.policy);
  if (policy) settings.policy = policy;
  const quietHours = quietHoursSection(doc.quietHours);
  if (quietHours) settings.quietHours = quietHours;
  return settings;
}

export type SettingsCommand =
  { type: 'SetSettings'; settings: unknown } | { type: 'SetSecret'; name: string; value: unknown } | { type: 'RemoveSecret'; name: string };

export function decideSettings(
  command: SettingsCommand,
  state: SettingsState,
  ctx: { workspaceId: string; now: Date; by?: string },
): SettingsEvent[] {
  const event = workspaceEvents('workspace-settings', ctx, state.revision);
  const make = <T extends SettingsEvent['type']>(type: T, data: EventDataByType[T]) => event(type, data) as SettingsEvent;
  switch (command.type) {
    case 'SetSettings': {
      const settings = validSettings(command.settings);
      return JSON.stringify(settings) === JSON.stringify(state.settings) ? [] : [make('WorkspaceSettingsChanged', { settings })];
    }
    case 'SetSecret': {
      if (!SECRET_NAME.test(command.name))
        throw new SettingsError(`name: must match ${SECRET_NAME.source}, got ${JSON.stringify(command.name)}`);
      const v = command.value;
      if (typeof v !== 'string' || v === '' || v.length > MAX_SECRET_LENGTH)
        throw new SettingsError(`value: must be a non-empty string of at most ${MAX_SECRET_LENGTH} characters`);
      return state.secrets.get(command.name) === v ? [] : [make('WorkspaceSecretSet', { name: command.name, value: v })];
    }
    case 'RemoveSecret':
      return state.secrets.has(command.name) ? [make('WorkspaceSecretRemoved', { name: command.name })] : [];
  }
}
