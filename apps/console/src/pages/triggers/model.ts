/** What the trigger endpoints answer (apps/engine/src/triggers/triggers.dto.ts), as the console reads it. */

export interface TriggerListItem {
  id: string;
  name: string;
  version: number;
  enabled: boolean;
  /** false: never enabled (a draft). */
  everEnabled?: boolean;
}

export interface TriggerVersionInfo {
  version: number;
  definedAt: string;
  definedBy: string;
}

export interface TriggerDetail extends TriggerListItem {
  shownVersion: number;
  definition: Record<string, unknown>;
  versions: TriggerVersionInfo[];
}

export interface TriggerChange extends TriggerListItem {
  changed: boolean;
}

export interface TriggerStats {
  triggerId: string;
  version: number;
  runs: number;
  converted: number;
  steps: { step: string; sent: number; suppressed: Record<string, number> }[];
  live?: { runs: number; converted: number; suppressed: Record<string, number> };
}

export interface TriggerFigures {
  runs: number;
  sent: number;
  suppressed: number;
  converted: number;
}

/** Per trigger, over every version: live runs, messages sent, suppressions and conversions. */
export function triggerFigures(stats: readonly TriggerStats[]): Map<string, TriggerFigures> {
  const out = new Map<string, TriggerFigures>();
  for (const s of stats) {
    const f = out.get(s.triggerId) ?? { runs: 0, sent: 0, suppressed: 0, converted: 0 };
    f.runs += s.live?.runs ?? s.runs;
    f.converted += s.live?.converted ?? s.converted;
    f.sent += s.steps.reduce((n, step) => n + (step.sent ?? 0), 0);
    const sum = (byReason: Record<string, number> | undefined) => Object.values(byReason ?? {}).reduce((n, v) => n + v, 0);
    f.suppressed += s.live ? sum(s.live.suppressed) : s.steps.reduce((n, step) => n + sum(step.suppressed), 0);
    out.set(s.triggerId, f);
  }
  return out;
}

/** enabled; disabled (was live once); draft (never enabled). */
export function statusOf(t: TriggerListItem): 'enabled' | 'disabled' | 'draft' {
  return t.enabled ? 'enabled' : t.everEnabled === false ? 'draft' : 'disabled';
}

/** Who a change is recorded as: `http:csm:ann` → "ann (csm)", `http:admin` → "an admin key". */
export function describeAuthor(definedBy: string): string {
  const [channel, role, member] = definedBy.split(':');
  if (channel !== 'http' || !role) return definedBy;
  return member ? `${member} (${role})` : `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role} key`;
}
