/**
 * The workspace settings document (GET/PUT /v1/admin/workspace/settings) and the form a person edits, both ways, with
 * the engine's own rules checked before sending (libs/domain/src/conversations/settings.ts): the engine checks again
 * and its words are shown next to the form. Settings name secrets; values are never read back.
 */

export interface WorkspaceSettings {
  inApp?: { allowedOrigins: string[]; identitySecret?: string };
  email?: { replyDomain?: string; inboundSecret?: string; replySecret?: string };
  slack?: { webhookUrl?: string; signingSecret?: string };
  policy?: { maxDailyMessagesOnEnable?: number; period?: string };
}

export interface SettingsAnswer {
  settings: WorkspaceSettings;
  secrets: string[];
  revision: number;
}

/** Every field as the form holds it (strings; '' is "not set"). */
export interface SettingsForm {
  allowedOrigins: string;
  identitySecret: string;
  replyDomain: string;
  inboundSecret: string;
  replySecret: string;
  slackWebhookUrl: string;
  slackSigningSecret: string;
  maxDailyMessagesOnEnable: string;
  policyPeriod: string;
}

export type SettingsField = keyof SettingsForm;
export type FieldErrors<F extends string> = Partial<Record<F, string>>;

/** Secret names: letters, digits and `_`, starting with a letter, at most 64 characters (usable in Liquid). */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const MAX_SECRET_LENGTH = 4096;
/** A browser origin: scheme and host (and port), no path. */
export const ORIGIN = /^https?:\/\/[^/\s]+$/;
const MAX_POLICY_PERIOD_DAYS = 90;

/** The settings which name a secret, with what each is for (the form's selects, and "used by" of a secret). */
export const SECRET_SETTINGS: { field: SettingsField; path: string; label: string }[] = [
  { field: 'identitySecret', path: 'inApp.identitySecret', label: 'In-app identity secret' },
  { field: 'inboundSecret', path: 'email.inboundSecret', label: 'Inbound email secret' },
  { field: 'replySecret', path: 'email.replySecret', label: 'Reply address signing secret' },
  { field: 'slackWebhookUrl', path: 'slack.webhookUrl', label: 'Slack webhook URL' },
  { field: 'slackSigningSecret', path: 'slack.signingSecret', label: 'Slack signing secret' },
];

export function formFromSettings(s: WorkspaceSettings): SettingsForm {
  return {
    allowedOrigins: (s.inApp?.allowedOrigins ?? []).join('\n'),
    identitySecret: s.inApp?.identitySecret ?? '',
    replyDomain: s.email?.replyDomain ?? '',
    inboundSecret: s.email?.inboundSecret ?? '',
    replySecret: s.email?.replySecret ?? '',
    slackWebhookUrl: s.slack?.webhookUrl ?? '',
    slackSigningSecret: s.slack?.signingSecret ?? '',
    maxDailyMessagesOnEnable: s.policy?.maxDailyMessagesOnEnable === undefined ? '' : String(s.policy.maxDailyMessagesOnEnable),
    policyPeriod: s.policy?.period ?? '',
  };
}

/** Origins one per line (or separated by commas or spaces), trimmed, without duplicates or a trailing slash. */
export function parseOrigins(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const o = raw.trim().replace(/\/+$/, '');
    if (o && !out.includes(o)) out.push(o);
  }
  return out;
}

/** A duration like `7d`, `36h`, `90m` in milliseconds (undefined when it is not one). */
export function durationMs(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/**
 * The document to PUT, or the errors by field. `base` is the document the form was loaded from: a section it had is
 * kept (even empty) so that saving an untouched form changes nothing.
 */
export function settingsFromForm(
  form: SettingsForm,
  base: WorkspaceSettings = {},
): { settings?: WorkspaceSettings; errors: FieldErrors<SettingsField> } {
  const errors: FieldErrors<SettingsField> = {};
  const origins = parseOrigins(form.allowedOrigins);
  const badOrigin = origins.find((o) => !ORIGIN.test(o));
  if (badOrigin !== undefined)
    errors.allowedOrigins = `"${badOrigin}" is not an origin: give the scheme and host only, like https://app.example.com`;
  for (const { field } of SECRET_SETTINGS) {
    const v = form[field].trim();
    if (v && !SECRET_NAME.test(v)) errors[field] = `must name a secret: a letter, then letters, digits or _ (got "${v}")`;
  }
  const domain = form.replyDomain.trim();
  if (domain && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(domain))
    errors.replyDomain = `"${domain}" is not a domain like reply.example.com`;
  const max = form.maxDailyMessagesOnEnable.trim();
  if (max && (!/^\d+$/.test(max) || Number(max) > 1e9)) errors.maxDailyMessagesOnEnable = 'must be a whole number from 0 to 1000000000';
  const period = form.policyPeriod.trim();
  if (period) {
    const ms = durationMs(period);
    if (ms === undefined || ms < 86_400_000 || ms > MAX_POLICY_PERIOD_DAYS * 86_400_000)
      errors.policyPeriod = `must be a duration from 1d to ${MAX_POLICY_PERIOD_DAYS}d such as 7d`;
  }
  if (Object.keys(errors).length) return { errors };

  const settings: WorkspaceSettings = {};
  const identitySecret = form.identitySecret.trim();
  if (origins.length || identitySecret || base.inApp)
    settings.inApp = { allowedOrigins: origins, ...(identitySecret && { identitySecret }) };
  const email = compact({ replyDomain: domain, inboundSecret: form.inboundSecret.trim(), replySecret: form.replySecret.trim() });
  if (email || base.email) settings.email = email ?? {};
  const slack = compact({ webhookUrl: form.slackWebhookUrl.trim(), signingSecret: form.slackSigningSecret.trim() });
  if (slack || base.slack) settings.slack = slack ?? {};
  if (max || period || base.policy) settings.policy = { ...(max && { maxDailyMessagesOnEnable: Number(max) }), ...(period && { period }) };
  return { settings, errors };
}

function compact<T extends Record<string, string>>(o: T): Partial<T> | undefined {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v) out[k as keyof T] = v as T[keyof T];
  return Object.keys(out).length ? out : undefined;
}

/** Which settings name each secret (name → labels). */
export function secretUses(s: WorkspaceSettings): Map<string, string[]> {
  const form = formFromSettings(s);
  const uses = new Map<string, string[]>();
  for (const { field, label } of SECRET_SETTINGS) {
    const name = form[field];
    if (name) uses.set(name, [...(uses.get(name) ?? []), label]);
  }
  return uses;
}

/** Settings that name a secret the workspace does not hold (they do nothing until it is set). */
export function missingSecrets(s: WorkspaceSettings, secrets: readonly string[]): string[] {
  return [...secretUses(s).keys()].filter((name) => !secrets.includes(name)).sort();
}

/** Checks a secret before PUT secrets/:name. */
export function secretErrors(name: string, value: string): FieldErrors<'name' | 'value'> {
  const errors: FieldErrors<'name' | 'value'> = {};
  if (!SECRET_NAME.test(name.trim())) errors.name = 'a letter, then letters, digits or _ (at most 64 characters), like crm_token';
  if (value === '') errors.value = 'give the value';
  else if (value.length > MAX_SECRET_LENGTH) errors.value = `at most ${MAX_SECRET_LENGTH} characters`;
  return errors;
}

/** Documents equal as JSON with keys in any order. */
export function sameDocument(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sorted(x)]),
    );
  return v;
}

/**
 * The settings endpoint takes no If-Match: before saving, the console reads the settings again and refuses (in words)
 * when someone else changed the document since the form was loaded. Secrets moving the revision are no conflict.
 */
export function settingsConflict(loaded: WorkspaceSettings, current: SettingsAnswer): string | undefined {
  if (sameDocument(loaded, current.settings)) return undefined;
  return `someone changed the workspace settings since you opened this form (now at revision ${current.revision}): your changes were not saved. Reload the settings, then make your changes again.`;
}
