/**
 * Entry conditions of 20 triggers evaluated on the same events: json-rules-engine (interprets its JSON rules per
 * event) vs the compiled trigger conditions (closures built once). Run: npm run build && node dist/test/bench/rules.bench.js
 * Prints one JSON line with both rates and the ratio (target: compiled >= 50x).
 */
import { Engine } from 'json-rules-engine';
import { compileSignal, type EvalContext, type FilterOps, type PropertyFilters, type Signal } from '@journey/domain';

const PLANS = ['free', 'starter', 'pro', 'team', 'enterprise'];
const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'JP'];

/** 20 realistic entry conditions: event + property filters + trait filters, with any/not. */
function triggers(): Signal[] {
  return Array.from({ length: 20 }, (_, i) => {
    const where: PropertyFilters = { plan: { in: PLANS.slice(i % 3, (i % 3) + 3) }, amount: { gte: (i % 7) * 10 } };
    const traits: PropertyFilters = { country: { notEquals: COUNTRIES[i % 5] }, seats: { lt: 50 + i } };
    return {
      all: [
        { event: `Event ${i % 6}`, where },
        { traits },
        { any: [{ traits: { tags: { contains: `tag${i % 4}` } } }, { not: { traits: { vip: true } } }] },
      ],
    };
  });
}

type Condition = Record<string, unknown>;
const OPS: Record<string, string> = {
  equals: 'equal',
  notEquals: 'notEqual',
  in: 'in',
  notIn: 'notIn',
  gt: 'greaterThan',
  gte: 'greaterThanInclusive',
  lt: 'lessThan',
  lte: 'lessThanInclusive',
  contains: 'contains',
};

function toRulesEngine(s: Signal): Condition {
  const filters = (fact: string, f: PropertyFilters): Condition[] =>
    Object.entries(f).flatMap(([path, spec]) =>
      spec !== null && typeof spec === 'object'
        ? Object.entries(spec as FilterOps).map(([op, value]) => ({ fact, path: `$.${path}`, operator: OPS[op], value }))
        : [{ fact, path: `$.${path}`, operator: 'equal', value: spec }],
    );
  if ('event' in s) return { all: [{ fact: 'event', operator: 'equal', value: s.event }, ...filters('properties', s.where ?? {})] };
  if ('traits' in s) return { all: filters('traits', s.traits) };
  if ('all' in s) return { all: s.all.map(toRulesEngine) };
  if ('any' in s) return { any: s.any.map(toRulesEngine) };
  if ('not' in s) return { not: toRulesEngine(s.not) };
  throw new Error('not translated');
}

function events(n: number) {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  return Array.from({ length: n }, (_, i) => ({
    name: `Event ${Math.floor(rnd() * 8)}`,
    props: { plan: pick(PLANS), amount: Math.floor(rnd() * 100) },
    traits: { country: pick(COUNTRIES), seats: Math.floor(rnd() * 80), tags: [pick(['tag0', 'tag1', 'tag2', 'tag3'])], vip: rnd() < 0.3 },
    i,
  }));
}

async function main() {
  const defs = triggers();
  const sample = events(Number(process.env.RULES_BENCH_EVENTS ?? 2000));

  const engine = new Engine([], { allowUndefinedFacts: true });
  defs.forEach((d, i) => engine.addRule({ name: `t${i}`, conditions: toRulesEngine(d) as never, event: { type: `t${i}` } }));
  const compiled = defs.map(compileSignal);

  const now = Date.parse('2025-03-01T00:00:00Z');
  const ctxOf = (e: (typeof sample)[number]): EvalContext => ({
    now,
    event: { id: String(e.i), name: e.name, type: 'InteractionRecorded', at: now, props: e.props, activity: true },
    traits: e.traits,
    previousTraits: e.traits,
    stage: 'active',
    history: [],
    timeZone: 'UTC',
  });

  // Same answers first: the benchmark compares equal work.
  let agreed = 0;
  for (const e of sample.slice(0, 500)) {
    const { events: fired } = await engine.run({ event: e.name, properties: e.props, traits: e.traits });
    const jre = new Set(fired.map((f) => f.type));
    const ctx = ctxOf(e);
    compiled.forEach((p, i) => {
      if (p(ctx) !== jre.has(`t${i}`)) throw new Error(`disagreement on event ${e.i}, trigger t${i}`);
      agreed++;
    });
  }

  let t = process.hrtime.bigint();
  let jreMatches = 0;
  for (const e of sample) jreMatches += (await engine.run({ event: e.name, properties: e.props, traits: e.traits })).events.length;
  const jreMs = Number(process.hrtime.bigint() - t) / 1e6;

  const rounds = 20;
  t = process.hrtime.bigint();
  let compiledMatches = 0;
  for (let r = 0; r < rounds; r++)
    for (const e of sample) {
      const ctx = ctxOf(e);
      for (const p of compiled) if (p(ctx)) compiledMatches++;
    }
  const compiledMs = Number(process.hrtime.bigint() - t) / 1e6 / rounds;
  if (compiledMatches / rounds !== jreMatches) throw new Error(`match counts differ: ${compiledMatches / rounds} vs ${jreMatches}`);

  const result = {
    bench: 'rules',
    triggers: defs.length,
    events: sample.length,
    matches: jreMatches,
    checkedAgreement: agreed,
    jsonRulesEngine: { ms: round(jreMs), eventsPerSec: Math.round(sample.length / (jreMs / 1000)) },
    compiled: { ms: round(compiledMs), eventsPerSec: Math.round(sample.length / (compiledMs / 1000)) },
    ratio: round(jreMs / compiledMs),
    target: 50,
  };
  console.log(JSON.stringify(result));
  if (result.ratio < result.target) process.exitCode = 1;
}

const round = (x: number) => Math.round(x * 10) / 10;
void main();
