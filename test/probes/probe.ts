/**
 * Shared by the probes (`npm run probe:crash|fuzz|soak`): options from the command line, the built engine in a child
 * process (as `npm start` runs it) on a free 127.0.0.1 port, and where a probe writes its results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, startEngine, type RunningEngine } from '../bench/harness';

export { ROOT, ADMIN_KEY, WRITE_KEY, postJson } from '../bench/harness';
export type { RunningEngine } from '../bench/harness';

/** `--short` (what CI runs) or the long form for people; `--name=value` options override a probe's defaults. */
export interface ProbeArgs {
  short: boolean;
  number(name: string, long: number, short: number): number;
}

export function probeArgs(argv = process.argv.slice(2)): ProbeArgs {
  const options = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument "${a}" (expected --short or --name=value)`);
    options.set(m[1], m[2] ?? 'true');
  }
  const short = options.get('short') === 'true';
  return {
    short,
    number(name, long, shortValue) {
      const raw = options.get(name);
      if (raw === undefined) return short ? shortValue : long;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
      return value;
    },
  };
}

/** A port nobody listens on now (the engine takes it a moment later; restarts keep it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The built engine (dist/apps/engine/src/main.js) on `port`, the embedded default on `dataDir`. */
export function startProbeEngine(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
  onSpawn?: (child: ChildProcess) => void,
): Promise<RunningEngine> {
  return startEngine({ LOG_LEVEL: 'error', JOURNEY_DATA_DIR: dataDir, ...env }, port, (child) => {
    engines.add(child);
    child.once('exit', () => engines.delete(child));
    onSpawn?.(child);
  });
}

/** Engines still running when a probe exits (it failed half-way) are killed with it. */
const engines = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of engines) child.kill('SIGKILL');
});

/** `probe-results/<probe>-<time>/` (gitignored), created. */
export function resultsDir(probe: string): string {
  const dir = join(ROOT, 'probe-results', `${probe}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs a command to its end with inherited output; resolves with its exit code. `timeoutMs`: SIGKILL it after that. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
    });
    const timer = options.timeoutMs
      ? setTimeout(() => (console.error(`${command}: killed after ${options.timeoutMs} ms`), child.kill('SIGKILL')), options.timeoutMs)
      : undefined;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** Prints the verdict and the figures (one JSON line last, as the benchmarks do) and sets the exit code. */
export function report(probe: string, failures: string[], figures: Record<string, unknown>): void {
  for (const f of failures) console.error(`${probe}: FAIL ${f}`);
  console.log(`${probe}: ${failures.length === 0 ? 'PASS' : 'FAIL'}`);
  console.log(JSON.stringify({ probe, ok: failures.length === 0, ...figures }));
  if (failures.length) process.exitCode = 1;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
