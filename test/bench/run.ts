/**
 * `npm run bench [-- name ...]`: runs the benchmarks one after the other, each in its own process (so one's memory and
 * open handles never skew the next), and prints a summary of every figure with its baseline from the same run.
 * Benchmarks that need a server (Kafka, the MongoDB-compatible server) run when KAFKA_BROKERS / MONGODB_URL is set
 * (`scripts/servers/up.sh` prints them) and are reported as SKIPPED otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface Bench {
  name: string;
  file: string;
  args?: string[];
  needs?: 'KAFKA_BROKERS' | 'MONGODB_URL';
  what: string;
}

const BENCHES: Bench[] = [
  {
    name: 'console',
    file: 'console.bench.js',
    what: 'the console in Chromium: bundle size, cold first load (target < 1 s), time to first row over 100k customers and a 10k-event timeline',
  },
  {
    name: 'ingest',
    file: 'ingest.bench.js',
    what: 'HTTP /v1/batch ingestion vs raw SQLite appends (target >= 20k ev/s and >= 25% of raw)',
  },
  { name: 'memory', file: 'ingest.bench.js', args: ['--memory'], what: 'engine RSS after 1M events for 10k customers (target < 400 MB)' },
  { name: 'rules', file: 'rules.bench.js', what: 'trigger condition evaluation vs json-rules-engine (target >= 50x)' },
  { name: 'backtest', file: 'backtest.bench.js', what: 'backtest of one trigger over 1M stored events (target < 30 s)' },
  {
    name: 'dry-run',
    file: 'dry-run.bench.js',
    what: 'dry-run impact (current + new version, one pass) vs one backtest over 1M events (target < 2x)',
  },
  {
    name: 'decision-latency',
    file: 'decision-latency.bench.js',
    what: 'ingestion answer -> message scheduled at 2k ev/s (target p99 < 50 ms)',
  },
  {
    name: 'segments',
    file: 'segments.bench.js',
    what: 'ingestion answer -> SegmentEntered/SegmentLeft stored at 2k ev/s (target p99 < 50 ms)',
  },
  {
    name: 'work-query',
    file: 'work-query.bench.js',
    what: 'GET /v1/work for a member with 500 open items among 100k conversations vs the raw store query (target p99 < 50 ms)',
  },
  {
    name: 'why-not',
    file: 'why-not.bench.js',
    what: 'why-not and preview for a customer with 10,000 events vs reading the stream (target p99 < 100 ms)',
  },
  {
    name: 'search',
    file: 'search.bench.js',
    what: 'GET /v1/customers?trait.<x>=<v>&limit=50 paged, 100k customers x 10 traits, vs the raw store query; MongoDB vs raw find when MONGODB_URL is set (target p99 < 50 ms on SQLite)',
  },
  {
    name: 'reply-push',
    file: 'reply-push.bench.js',
    what: "customer reply -> in the assignee's GET /v1/work and pushed on their SSE stream, at 1k ev/s ingest (target p99 < 100 ms)",
  },
  {
    name: 'broadcast-fanout',
    file: 'broadcast-fanout.bench.js',
    what: "a broadcast's fan-out over 100k segment members through the guards, vs reading their pages and streams only",
  },
  {
    name: 'identity-merge',
    file: 'identity-merge.bench.js',
    what: 'merge of a 100k-event anonymous history (batches) and the cost of routing to ingestion',
  },
  {
    name: 'relay',
    file: 'relay.bench.js',
    needs: 'KAFKA_BROKERS',
    what: 'outbox relay to Kafka vs raw kafkajs producer (target >= 20k ev/s and >= 50% of raw)',
  },
  {
    name: 'mongo-catchup',
    file: 'mongo-catchup.bench.js',
    needs: 'MONGODB_URL',
    what: 'projection catch-up into MongoDB vs raw bulkWrite (target >= 50% of raw)',
  },
];

function runOne(bench: Bench): Promise<{ code: number | null; json?: unknown }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, bench.file), ...(bench.args ?? [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('close', (code) => {
      resolve({ code, json: lastJsonValue(out) });
    });
  });
}

/** The last JSON object a bench printed (one line, or pretty-printed over several lines, at the end of its output). */
function lastJsonValue(out: string): unknown {
  const lines = out.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      return JSON.parse(lines.slice(i).join('\n'));
    } catch {
      // not where the object starts: keep looking upwards
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const selected = wanted.length ? BENCHES.filter((b) => wanted.includes(b.name)) : BENCHES;
  const summary: Record<string, unknown> = {};
  let failed = false;
  for (const bench of selected) {
    console.log(`\n=== ${bench.name}: ${bench.what}`);
    if (bench.needs && !process.env[bench.needs]) {
      console.log(`!!! SKIPPED: ${bench.name} needs ${bench.needs} (run scripts/servers/up.sh and export what it prints)`);
      summary[bench.name] = 'SKIPPED';
      continue;
    }
    if (!existsSync(join(__dirname, bench.file))) throw new Error(`${bench.file} is not built: run npm run build`);
    const { code, json } = await runOne(bench);
    summary[bench.name] = json ?? `exit code ${code}`;
    if (code !== 0) failed = true;
  }
  console.log('\n=== summary');
  console.log(JSON.stringify(summary, null, 2));
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
