import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildProgram } from '../main';
import { stepAddress } from './trigger-fixtures';
import { TEST_HELP } from './triggers';

const dir = mkdtempSync(join(tmpdir(), 'journey-cli-trigger-tests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};

/** Runs `journey …` and captures what it printed and the exit code it set. */
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
    return { out: out.join('\n'), err: err.join('\n'), code: process.exitCode ?? 0 };
  } finally {
    process.exitCode = undefined;
    log.mockRestore();
    error.mockRestore();
  }
}

// A nudge: 2 days after sign-up without activation, an email (rendered with the name), then a wait for activation.
const NUDGE = `id: nudge
name: Nudge
entry:
  absent: { event: Activated, for: 2d, after: { event: Signed Up } }
exit:
  - when: { event: Activated }
    reason: converted
steps:
  - send: { channel: email, topic: onboarding, subject: "Still there, {{ customer.traits.name | default: 'friend' }}?", body: "Hi {{ customer.traits.name }}, activate now." }
  - wait:
      until: { event: Activated }
      timeout: 3d
      onTimeout:
        - send: { channel: inbox, body: "Last call." }
guards:
  quietHours: { start: "21:00", end: "08:00" }
`;
file('nudge.yaml', NUDGE);

const fixture = (name: string, cases: string, triggers = '') => file(name, `${triggers}cases:\n${cases}`);

describe('journey triggers test: running fixtures', () => {
  it('a passing case: one ✓ line, the totals, exit 0', async () => {
    const f = fixture(
      'nudge.test.yaml',
      `  - name: not activated -> the email after 2 days, rendered with the name, then the last call
    customer: { id: ada, traits: { name: Ada } }
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
    expect:
      sends:
        - { channel: email, step: 0, at: '+2d', subject: 'Still there, Ada?', body: 'Hi Ada, activate now.' }
        - { channel: inbox, step: 'steps[1].wait.onTimeout[0]', at: '+5d', body: Last call. }
      exits: [{ reason: completed, at: '+5d' }]
`,
    );
    expect(await journey('triggers', 'test', f)).toEqual({
      out: `✓ ${f} › not activated -> the email after 2 days, rendered with the name, then the last call\n1 passed, 0 failed`,
      err: '',
      code: 0,
    });
  });

  it('a failing case: ✗ with expected vs got and the decided events, exit 1', async () => {
    const f = fixture(
      'failing/nudge.test.yaml',
      `  - name: wrong day
    customer: { traits: { name: Ada } }
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
      - { at: '+4d', track: Activated }
    expect:
      sends: [{ channel: email, at: '+3d' }]
      exits: [{ reason: completed }]
`,
      'triggers: ../nudge.yaml\n',
    );
    const r = await journey('triggers', 'test', f);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`✗ ${f} › wrong day`);
    expect(lines.slice(1, 6)).toEqual([
      '    sends: expected 1, got 1',
      '      expect.sends[0] (channel email, at 2026-03-04T09:00:00.000Z): no such send; closest: 2026-03-03T09:00:00.000Z email nudge step 0: "Still there, Ada?" "Hi Ada, activate now." (at: expected 2026-03-04T09:00:00.000Z, got 2026-03-03T09:00:00.000Z)',
      '    exits: expected 1, got 1',
      '      expect.exits[0] (reason completed): no such exit; closest: 2026-03-05T09:00:00.000Z nudge exited: converted (reason: expected completed, got converted)',
      '    decided (9):',
    ]);
    expect(lines).toContain(
      '      2026-03-03T09:00:00.000Z MessageScheduled nudge email step 0: "Still there, {{ customer.traits.name | default: \'friend\' }}?"',
    );
    expect(lines).toContain('      2026-03-05T09:00:00.000Z TriggerRunExited nudge: converted');
    expect(lines.at(-1)).toBe('0 passed, 1 failed');
  });

  it('counts are exact: one more send than listed fails, unless atLeast', async () => {
    const cases = (atLeast: string) => `  - name: only the email listed
    customer: { traits: { name: Ada } }
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
    expect:
      ${atLeast}
      sends: [{ channel: email }]
`;
    const exact = await journey('triggers', 'test', fixture('exact/nudge.test.yaml', cases(''), 'triggers: ../nudge.yaml\n'));
    expect(exact.code).toBe(1);
    expect(exact.out).toContain(
      '    sends: expected 1, got 2\n      unexpected send: 2026-03-06T09:00:00.000Z inbox nudge step 1.onTimeout.0: "Last call."',
    );
    const atLeast = await journey(
      'triggers',
      'test',
      fixture('atleast/nudge.test.yaml', cases('atLeast: [sends]'), 'triggers: ../nudge.yaml\n'),
    );
    expect(atLeast.out).toBe(`✓ ${join(dir, 'atleast/nudge.test.yaml')} › only the email listed\n1 passed, 0 failed`);
    expect(atLeast.code).toBe(0);
  });

  it('listed in another order than decided: found, but not in this order', async () => {
    const r = await journey(
      'triggers',
      'test',
      fixture(
        'order/nudge.test.yaml',
        `  - name: swapped
    customer: { traits: { name: Ada } }
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
    expect:
      sends: [{ channel: inbox }, { channel: email }]
`,
        'triggers: ../nudge.yaml\n',
      ),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('expect.sends[1] (channel email): found, but not in this order');
  });

  it('nothing: true fails on any message to the customer', async () => {
    const r = await journey(
      'triggers',
      'test',
      fixture(
        'nothing/nudge.test.yaml',
        `  - name: expects silence
    customer: { traits: { name: Ada } }
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
    until: '+2d'
    expect:
      nothing: true
`,
        'triggers: ../nudge.yaml\n',
      ),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('    nothing: expected no message to the customer, got 1\n      2026-03-03T09:00:00.000Z email nudge step 0:');
  });

  it('bodies are rendered as the dispatcher would: a missing variable is a template-error suppression; traits set before a deferred send are used', async () => {
    const f = fixture(
      'render/nudge.test.yaml',
      `  - name: no name trait -> the email does not render
    given:
      - { at: '2026-03-01T09:00:00Z', track: Signed Up }
    until: '+2d'
    expect:
      sends: []
      suppressed: [{ reason: template-error, channel: email, at: '+2d' }]
  - name: due at 22:00 -> sent at 08:00, with the name that arrived meanwhile
    given:
      - { at: '2026-03-01T22:00:00Z', track: Signed Up }
      - { at: '+49h', traits: { name: Bea } }
    until: '+3d'
    expect:
      sends: [{ at: '2026-03-04T08:00:00Z', body: { contains: Hi Bea } }]
`,
      'triggers: ../nudge.yaml\n',
    );
    const r = await journey('triggers', 'test', f);
    expect(r.err).toBe('');
    expect(r.out.split('\n')[0]).toBe(`✓ ${f} › no name trait -> the email does not render`);
    expect(r.out.split('\n').slice(-1)).toEqual(['2 passed, 0 failed']);
  });

  it('a trigger file runs the fixture beside it; a directory runs every fixture under it', async () => {
    const one = await journey('triggers', 'test', join(dir, 'nudge.yaml'));
    expect(one.out).toMatch(/^✓ .*nudge\.test\.yaml › not activated/);
    const all = await journey('triggers', 'test', join(dir, 'order'), join(dir, 'atleast'));
    expect(all.out.split('\n').filter((l) => /^[✓✗]/.test(l))).toEqual([
      `✗ ${join(dir, 'order/nudge.test.yaml')} › swapped`,
      `✓ ${join(dir, 'atleast/nudge.test.yaml')} › only the email listed`,
    ]);
  });
});

describe('journey triggers test: bad fixtures (exit 2, naming the file, line, case and path)', () => {
  it('reports every problem of a fixture and runs none of its cases', async () => {
    const f = fixture(
      'bad/nudge.test.yaml',
      `  - name: typos
    given:
      - { at: '+1d', track: Signed Up }
      - { at: 'tomorrow', stage: dormant }
      - { at: '2026-03-01T09:00:00Z', track: Activated, propertes: {} }
    expect:
      sends: [{ channel: email, step: 7, trigger: nudge }]
      exit: []
  - name: no expectations
    given:
      - { at: '2026-03-01T09:00:00Z', identify: {}, track: X }
    expect: {}
`,
      'triggers: ../nudge.yaml\n',
    );
    const r = await journey('triggers', 'test', f);
    expect(r.code).toBe(2);
    expect(r.out).toBe('0 passed, 0 failed');
    expect(r.err.split('\n')).toEqual([
      `${f}:5: case "typos": cases[0].given[0].at: "+1d" is relative, but the case has no \`now\` (nor a first event at an absolute time) to count from`,
      `${f}:6: case "typos": cases[0].given[1].at: expected a date-time with a time zone (2026-03-01T09:00:00Z) or an offset (+2d), got "tomorrow"`,
      `${f}:7: case "typos": cases[0].given[2].propertes: unknown key (expected one of: at, arrivedAt, track, properties, context)`,
      `${f}:10: case "typos": cases[0].expect.exit: unknown key (expected one of: sends, suppressed, tasks, exits, replies, handoffs, stages, tags, nothing, atLeast)`,
      `${f}:9: case "typos": cases[0].expect.sends[0].step: "7" is no step of nudge (steps are named 0, 1.onTimeout.0, or steps[1].wait.onTimeout[0])`,
      `${f}:13: case "no expectations": cases[1].given[0]: expected exactly one of track, identify, traits, stage, reply (got track and identify)`,
      `${f}:14: case "no expectations": cases[1].expect: expects nothing to be checked: give at least one of sends, suppressed, tasks, exits, replies, handoffs, stages, tags or nothing`,
      '7 fixture errors: the cases of those files did not run',
    ]);
  });

  it('a fixture without a trigger beside it, a trigger without a fixture, a missing path, invalid YAML', async () => {
    const orphan = fixture(
      'orphan.test.yaml',
      "  - name: x\n    given: [{ at: '2026-03-01T09:00:00Z', track: X }]\n    expect: { nothing: true }\n",
    );
    const lonely = file('lonely.yaml', 'id: lonely\nname: L\nentry: { event: X }\nsteps: [{ exit: {} }]\n');
    const broken = file('broken.test.yaml', 'cases: [\n');
    const r = await journey('triggers', 'test', orphan, lonely, join(dir, 'missing'), broken);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([
      `${lonely}: no fixture beside it (expected ${join(dir, 'lonely.test.yaml')})`,
      `${join(dir, 'missing')}: no such file or directory`,
      `${orphan}:1: no trigger beside orphan.test.yaml (expected ${join(dir, 'orphan.yaml')}); name it with \`triggers:\``,
      `${broken}:2: not valid YAML/JSON: ${r.err.split('\n')[3].split('not valid YAML/JSON: ')[1]}`,
      '4 fixture errors: the cases of those files did not run',
    ]);
  });

  it('events listed out of arrival order, until before the last event, an unknown trigger id', async () => {
    const r = await journey(
      'triggers',
      'test',
      fixture(
        'order-bad/nudge.test.yaml',
        `  - name: late
    given:
      - { at: '2026-03-02T09:00:00Z', track: Signed Up }
      - { at: '2026-03-01T09:00:00Z', track: Activated }
    until: '2026-03-01T00:00:00Z'
    expect:
      exits: [{ trigger: welcome }]
`,
        'triggers: [../nudge.yaml]\n',
      ),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('cases[0].given[1].at: arrives before the event above it: list the events in the order they arrive');
    expect(r.err).toContain('cases[0].until: is before the last given event arrives');
    expect(r.err).toContain('cases[0].expect.exits[0].trigger: "welcome" is not one of the triggers under test (nudge)');
  });

  it('journey triggers validate checks a fixture as a fixture, and refuses to take one for a trigger', async () => {
    const good = join(dir, 'nudge.test.yaml');
    const r = await journey('triggers', 'validate', good, join(dir, 'bad/nudge.test.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toBe(`ok ${good} (fixture: 1 case of nudge)`);
    expect(r.err).toContain('cases[0].given[1].at: expected a date-time');
  });
});

describe('step names', () => {
  it('a document path is the address events carry', () => {
    expect(stepAddress('steps[1].wait.onTimeout[0]')).toBe('1.onTimeout.0');
    expect(stepAddress('steps[2].branch.then[1].split.variants[1].steps[0]')).toBe('2.then.1.variants.1.0');
    expect(stepAddress('3.onEvent.0')).toBe('3.onEvent.0');
  });
});

describe('journey triggers test --help', () => {
  it('its example is a fixture that passes against the library`s activation nudge', async () => {
    const lines = TEST_HELP.split('\n');
    const from = lines.indexOf('  cases:');
    const example = lines
      .slice(from, lines.indexOf('', from))
      .map((l) => l.slice(2))
      .join('\n');
    const library = join(__dirname, '../../../../triggers/library/onboarding-activation-nudge.yaml');
    const f = file('help/example.test.yaml', `triggers: ${library}\n${example}\n`);
    expect(await journey('triggers', 'test', f)).toEqual({
      out: `✓ ${f} › never activates -> the email on day 3, the inbox message two days later\n1 passed, 0 failed`,
      err: '',
      code: 0,
    });
  });
});
