/**
 * Lift statistics: conversion of treated vs holdout runs, with confidence intervals. Pure.
 *
 * - A proportion x/n: Wilson's score interval (Wilson 1927; Newcombe 1998, method 3).
 * - The difference p_t − p_h: Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the difference
 *   between independent proportions", method 10), from the two Wilson intervals.
 * - The lift (p_t − p_h) / p_h = RR − 1: the Katz log interval for the risk ratio RR = p_t / p_h (Katz et al. 1978),
 *   exp(ln RR ± z·√(1/x_t − 1/n_t + 1/x_h − 1/n_h)) − 1; undefined (null) when either group has no conversion.
 */

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

/** Wilson's score interval of x successes in n trials (null for n = 0). */
export function wilsonInterval(x: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  return { lower: Math.max(0, (centre - half) / denominator), upper: Math.min(1, (centre + half) / denominator) };
}

/** Newcombe's hybrid score interval (method 10) for p1 − p2 (null when either n is 0). */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval | null {
  const w1 = wilsonInterval(x1, n1, z);
  const w2 = wilsonInterval(x2, n2, z);
  if (!w1 || !w2) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  return {
    lower: d - Math.sqrt((p1 - w1.lower) ** 2 + (w2.upper - p2) ** 2),
    upper: d + Math.sqrt((w1.upper - p1) ** 2 + (p2 - w2.lower) ** 2),
  };
}

/** Katz's log interval for the risk ratio (x1/n1) / (x2/n2) (null when a group has no trials or no successes). */
export function katzRatio(x1: number, n1: number, x2: number, n2: number, z = Z95): (Interval & { estimate: number }) | null {
  if (n1 <= 0 || n2 <= 0 || x1 <= 0 || x2 <= 0) return null;
  const rr = x1 / n1 / (x2 / n2);
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2);
  return { estimate: rr, lower: rr * Math.exp(-z * se), upper: rr * Math.exp(z * se) };
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

export interface GroupConversion {
  runs: number;
  converted: number;
  conversionRate: number | null;
  /** Wilson 95% interval of the rate. */
  ci95: Interval | null;
}

export interface LiftFigures {
  /** (p_t − p_h) / p_h; null without a holdout conversion. */
  lift: number | null;
  /** Katz log 95% interval of the ratio, minus 1. */
  liftCi95: Interval | null;
  /** p_t − p_h and its Newcombe hybrid score 95% interval. */
  difference: number | null;
  differenceCi95: Interval | null;
  method: string;
}

export const LIFT_METHOD =
  "lift = p_t/p_h - 1 with the Katz log interval of the risk ratio; difference p_t - p_h with Newcombe's hybrid score interval (method 10); 95%";

export function groupConversion(converted: number, runs: number): GroupConversion {
  const ci = wilsonInterval(converted, runs);
  return {
    runs,
    converted,
    conversionRate: runs > 0 ? round(converted / runs) : null,
    ci95: ci && { lower: round(ci.lower), upper: round(ci.upper) },
  };
}

/** Treated (x_t of n_t converted) vs holdout (x_h of n_h). */
export function liftFigures(xt: number, nt: number, xh: number, nh: number): LiftFigures {
  const ratio = katzRatio(xt, nt, xh, nh);
  const diff = newcombeDifference(xt, nt, xh, nh);
  const ph = nh > 0 ? xh / nh : 0;
  return {
    lift: nt > 0 && ph > 0 ? round((xt / nt - ph) / ph) : null,
    liftCi95: ratio && { lower: round(ratio.lower - 1), upper: round(ratio.upper - 1) },
    difference: nt > 0 && nh > 0 ? round(xt / nt - ph) : null,
    differenceCi95: diff && { lower: round(diff.lower), upper: round(diff.upper) },
    method: LIFT_METHOD,
  };
}
