/**
 * The shapes of GET /v1/analytics/triggers (per trigger version: runs, steps, live and shadow, and treated vs holdout
 * lift), read by the analytics area and by a trigger's statistics tab.
 */
export interface Interval {
  lower: number;
  upper: number;
}
export interface GroupConversion {
  runs: number;
  converted: number;
  conversionRate: number | null;
  ci95: Interval | null;
}
export interface LiftFigures {
  lift: number | null;
  liftCi95: Interval | null;
  difference: number | null;
  differenceCi95: Interval | null;
  method: string;
}
export interface ModeLift {
  holdout: GroupConversion;
  treated: GroupConversion & LiftFigures;
  variants: Array<GroupConversion & LiftFigures & { variant: string }>;
}
export interface StepStats {
  step: string;
  kind: string;
  entered: number;
  scheduled: number;
  sent: number;
  delivered: number;
  failed: number;
  opened: number;
  clicked: number;
  suppressed: Record<string, number>;
  converted: number;
}
export interface ModeStats {
  runs: number;
  converted: number;
  conversionRate: number | null;
  messages: Record<string, number>;
  suppressed: Record<string, number>;
}
export interface TriggerVersionStats {
  triggerId: string;
  version: number;
  runs: number;
  treated: number;
  converted: number;
  conversionRate: number | null;
  holdout: { runs: number; converted: number; conversionRate: number | null };
  steps: StepStats[];
  live: ModeStats;
  shadow: ModeStats | null;
  lift: { goals: string[]; windowDays: number; asOf: string | null; live: ModeLift | null; shadow: ModeLift | null } | null;
}
