/**
 * Dry-run impact over a large history: 1,000,000 stored events (the backtest bench's history and loader) in a temporary
 * SQLite store; one backtest of the current version (a library trigger) against one dry-run (the current version beside
 * a candidate that adds a step and narrows the entry), in the same process, alternating, wall-clock. Bar: a dry-run
 * takes under 2x one backtest (it reads and decodes the log once for both versions).
 * Run: npm run bench -- dry-run  (or node dist/test/bench/dry-run.bench.js [--events N] [--customers N] [--rounds N])
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { assertValidTrigger, type TriggerDefinition } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { runBacktest, runDryRun } from '@journey/reactors';
import { fill } from './backtest.bench';
import { ROOT } from './harness';

const TARGET_RATIO = 2;
const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);

export interface DryRunFigures {
  bench: 'dry-run';
  events: number;
  customers: number;
  trigger: string;
  fillSeconds: number;
  rounds: number;
  backtestSeconds: number[];
  dryRunSeconds: number[];
  /** CPU time (user + system) of this process in each run: less sensitive than wall-clock to a busy machine. */
  backtestCpuSeconds: number[];
  dryRunCpuSeconds: number[];
  /** Medians (p50) of the rounds, wall-clock; the bar is on `ratio`. */
  backtestP50: number;
  dryRunP50: number;
  ratio: number;
  cpuRatio: number;
  loadAverage: number[];
  impact: { entered: unknown; messages: unknown; messagesPerDay: { current: number; candidate: number } };
  targetRatio: number;
  meetsTargets: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (started: bigint) => +(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2);
const cpuSeconds = (started: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(started);
  return +((used.user + used.system) / 1e6).toFixed(2);
};

export async function run(
  options: { events?: number; customers?: number; rounds?: number; trigger?: string } = {},
): Promise<DryRunFigures> {
  const events = options.events ?? 1_000_000;
  const customers = options.customers ?? 10_000;
  const rounds = options.rounds ?? 3;
  const trigger = options.trigger ?? 'onboarding-activation-nudge';
  const current = assertValidTrigger(parse(readFileSync(join(ROOT, 'triggers/library', `${trigger}.yaml`), 'utf8')));
  // the change: pro customers only, and a task for the CSM after the first email
  const candidate: TriggerDefinition = assertValidTrigger({
    ...current,
    entry: { all: [...('all' in current.entry ? current.entry.all : [current.entry]), { traits: { plan: 'pro' } }] },
    steps: [current.steps[0], { task: { title: 'Call the customer' } }, ...current.steps.slice(1)],
  });
  const dir = mkdtempSync(join(tmpdir(), 'journey-dry-run-bench-'));
  const db = openSqliteDatabase(join(dir, 'journey.db'), { synchronous: 'NORMAL' });
  const store = new SqliteEventStore(db);
  const from = new Date(START);
  const to = new Date(START + 91 * DAY);
  try {
    const fillSeconds = await fill(store, events, customers);
    const backtestSeconds: number[] = [];
    const dryRunSeconds: number[] = [];
    const backtestCpuSeconds: number[] = [];
    const dryRunCpuSeconds: number[] = [];
    let impact: DryRunFigures['impact'] | undefined;
    for (let round = 0; round < rounds; round++) {
      global.gc?.();
      let started = process.hrtime.bigint();
      let cpu = process.cpuUsage();
      const report = await runBacktest(store, { workspaceId: 'default', definition: current, version: 1, from, to });
      backtestSeconds.push(seconds(started));
      backtestCpuSeconds.push(cpuSeconds(cpu));
      if (report.eventsReplayed !== events) throw new Error(`backtest replayed ${report.eventsReplayed} of ${events} events`);
      global.gc?.();
      started = process.hrtime.bigint();
      cpu = process.cpuUsage();
      const dry = await runDryRun(store, {
        workspaceId: 'default',
        current: { definition: current, version: 1 },
        candidate: { definition: candidate, version: 2 },
        from,
        to,
      });
      dryRunSeconds.push(seconds(started));
      dryRunCpuSeconds.push(cpuSeconds(cpu));
      if (dry.candidate.report.eventsReplayed !== events)
        throw new Error(`dry-run replayed ${dry.candidate.report.eventsReplayed} of ${events}`);
      if (dry.current!.report.entered.runs !== report.entered.runs) throw new Error('the dry-run current side differs from the backtest');
      impact = {
        entered: dry.entered,
        messages: dry.messages,
        messagesPerDay: { current: dry.messagesPerDay.current!.average, candidate: dry.messagesPerDay.candidate.average },
      };
      console.error(
        `round ${round + 1}: backtest ${backtestSeconds[round]} s (cpu ${backtestCpuSeconds[round]} s), dry-run ${dryRunSeconds[round]} s (cpu ${dryRunCpuSeconds[round]} s)`,
      );
    }
    const backtestP50 = median(backtestSeconds);
    const dryRunP50 = median(dryRunSeconds);
    const ratio = +(dryRunP50 / backtestP50).toFixed(2);
    return {
      bench: 'dry-run',
      events,
      customers,
      trigger,
      fillSeconds: +fillSeconds.toFixed(1),
      rounds,
      backtestSeconds,
      dryRunSeconds,
      backtestCpuSeconds,
      dryRunCpuSeconds,
      backtestP50,
      dryRunP50,
      ratio,
      cpuRatio: +(median(dryRunCpuSeconds) / median(backtestCpuSeconds)).toFixed(2),
      loadAverage: loadavg().map((n) => +n.toFixed(1)),
      impact: impact!,
      targetRatio: TARGET_RATIO,
      meetsTargets: ratio < TARGET_RATIO,
    };
  } finally {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      customers: { type: 'string' },
      rounds: { type: 'string' },
      trigger: { type: 'string' },
    },
  });
  run({
    events: values.events ? Number(values.events) : undefined,
    customers: values.customers ? Number(values.customers) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    trigger: values.trigger,
  })
    .then((figures) => {
      console.log(JSON.stringify(figures, null, 2));
      if (!figures.meetsTargets) process.exitCode = 1;
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
