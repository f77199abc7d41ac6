/** What the probes compute from what they measured: pure, so test/probes/figures.spec.ts checks it. */
import { readFileSync } from 'node:fs';

/** Least-squares slope of y over x (NaN for fewer than two distinct x). */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

/** One operation of a schemathesis JUnit report: its check failures (here: 5xx) and the cases the tool could not run. */
export interface Testcase {
  name: string;
  failures: string[];
  errors: string[];
}

export function parseJunit(xml: string): Testcase[] {
  const unescape = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#10;/g, '\n')
      .replace(/&amp;/g, '&');
  return [...xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const name = unescape(/name="([^"]*)"/.exec(m[1])?.[1] ?? '?');
    const of = (tag: string) =>
      [...(m[2] ?? '').matchAll(new RegExp(`<${tag}\\b([^>]*?)(?:\\/>|>([\\s\\S]*?)<\\/${tag}>)`, 'g'))].map((b) =>
        unescape(`${/message="([^"]*)"/.exec(b[1])?.[1] ?? ''}\n${b[2] ?? ''}`).trim(),
      );
    return { name, failures: of('failure'), errors: of('error') };
  });
}

/** The report's operations; none when the file is missing (schemathesis did not get to write it). */
export function readJunitFile(path: string): Testcase[] {
  try {
    return parseJunit(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * The operation ids of an OpenAPI document whose answers are event streams (`text/event-stream`): a stream does not
 * end, so a request/response fuzzer can only wait for its timeout there. Their inputs are tested by their own e2e tests.
 */
export function eventStreamOperations(doc: { paths?: Record<string, Record<string, unknown>> }): string[] {
  const ids: string[] = [];
  for (const operations of Object.values(doc.paths ?? {}))
    for (const op of Object.values(operations) as Array<{ operationId?: string; responses?: Record<string, { content?: object }> }>) {
      const streams = Object.values(op?.responses ?? {}).some((r) => Object.keys(r?.content ?? {}).includes('text/event-stream'));
      if (streams && op.operationId) ids.push(op.operationId);
    }
  return ids;
}
