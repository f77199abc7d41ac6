import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildProgram } from '../../apps/cli/src/main';
import { runTriggerTests } from '../../apps/cli/src/commands/trigger-tests';

/** `journey triggers test triggers/library`, as CI runs it: every shipped trigger has fixtures and they all pass. */
const library = relative(process.cwd(), join(__dirname, '../../triggers/library'));
const triggers = readdirSync(library)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));

async function journey(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  process.exitCode = undefined;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'journey', ...args]);
    return { out, err, code: process.exitCode ?? 0 };
  } finally {
    process.exitCode = undefined;
    log.mockRestore();
    error.mockRestore();
  }
}

describe('the shipped library`s fixtures (triggers/library/*.test.yaml)', () => {
  it('journey triggers test triggers/library: every case passes, one line each, then the totals', async () => {
    const r = await journey('triggers', 'test', library);
    const failing = r.out.filter((l) => !l.startsWith('✓ ') && !/^\d+ passed, 0 failed$/.test(l));
    expect({ failing, err: r.err }).toEqual({ failing: [], err: [] });
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it.each(triggers)('%s has a fixture beside it with a main-path case and a suppression or exit case', (id) => {
    const run = runTriggerTests([join(library, `${id}.yaml`)]);
    expect(run.errors).toEqual([]);
    expect(run.failed).toBe(0);
    const categories = run.results.map((r) => new Set(r.outcomes.map((o) => o.category)));
    // the main path: a case where the trigger sends, opens a task, hands off or replies
    expect(categories.some((c) => ['sends', 'tasks', 'handoffs', 'replies'].some((k) => c.has(k as never)))).toBe(true);
    // and a case where it holds back: a suppression, an exit other than completing, or nothing at all
    const holdsBack = run.results.some(
      (r) =>
        r.outcomes.some((o) => o.category === 'suppressed' || (o.category === 'exits' && o.reason !== 'completed')) ||
        !r.outcomes.some((o) => ['sends', 'tasks', 'handoffs', 'replies'].includes(o.category)),
    );
    expect(holdsBack).toBe(true);
    expect(run.results.length).toBeGreaterThanOrEqual(2);
  });
});
