import type { JourneyEvent } from '../events';
import { Backtest } from './backtest';
import { DryRun } from './dry-run';
import { assertValidTrigger } from './validate';
import { History } from './testing';

const welcome = assertValidTrigger({
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  steps: [{ send: { channel: 'email', subject: 'Welcome', body: 'hi' } }],
});

/** Log order across customers: by arrival. */
const interleave = (...histories: History[]) =>
  histories.flatMap((h) => h.events).sort((a, b) => Date.parse(a.metadata.recordedAt) - Date.parse(b.metadata.recordedAt));

function dryRun(events: JourneyEvent[], candidate: unknown, current: unknown = welcome) {
  const run = new DryRun({
    workspaceId: 'ws',
    current: current ? { definition: assertValidTrigger(current), version: 1 } : undefined,
    candidate: { definition: assertValidTrigger(candidate), version: 2 },
    from: new Date('2025-03-01T00:00:00Z'),
    to: new Date('2025-03-08T00:00:00Z'),
  });
  for (const e of events) run.add(e);
  return run.report();
}

describe('DryRun: the candidate beside the current version, one pass', () => {
  const pro = new History('pro');
  pro.identify('2025-02-20T10:00:00Z', { plan: 'pro' });
  pro.track('2025-03-01T10:00:00Z', 'Signed Up');
  const free = new History('free');
  free.identify('2025-02-20T11:00:00Z', { plan: 'free' });
  free.track('2025-03-02T11:00:00Z', 'Signed Up');
  const other = new History('other');
  other.track('2025-03-03T11:00:00Z', 'Logged In');
  const events = interleave(pro, free, other);

  it('a version that adds a step: the customers who start getting it, nobody stops getting the first one', () => {
    const candidate = {
      ...welcome,
      steps: [...welcome.steps, { wait: { duration: '1d' } }, { send: { channel: 'inbox', body: 'tips' } }],
    };
    const report = dryRun(events, candidate);
    expect(report.current?.version).toBe(1);
    expect(report.candidate.version).toBe(2);
    expect(report.entered).toMatchObject({ current: 2, candidate: 2, difference: 0, starts: { customers: 0 }, stops: { customers: 0 } });
    const welcomeStep = report.steps.find((s) => s.step === 'send email: Welcome')!;
    expect(welcomeStep).toMatchObject({
      currentAddress: '0',
      candidateAddress: '0',
      customers: { current: 2, candidate: 2, difference: 0 },
      messages: { email: { current: 2, candidate: 2, difference: 0 } },
      starts: { customers: 0, sampleCustomerIds: [] },
      stops: { customers: 0 },
    });
    const tips = report.steps.find((s) => s.step === 'send inbox')!;
    expect(tips).toMatchObject({ candidateAddress: '2', runs: { current: 0, candidate: 2, difference: 2 } });
    expect(tips.currentAddress).toBeUndefined();
    expect(tips.starts.customers).toBe(2);
    expect([...tips.starts.sampleCustomerIds].sort()).toEqual(['free', 'pro']);
    expect(report.messages).toEqual({
      email: { current: 2, candidate: 2, difference: 0 },
      inbox: { current: 0, candidate: 2, difference: 2 },
    });
    expect(report.messagesPerDay.candidate).toMatchObject({
      peak: 2,
      peakDay: '2025-03-02',
      days: { '2025-03-01': 1, '2025-03-02': 2, '2025-03-03': 1 },
      average: 0.57,
    });
    expect(report.messagesPerDay.difference).toEqual({ average: 0.29, peak: 1 });
  });

  it('each side is the backtest of its version alone: two independent simulations over one pass', () => {
    const candidate = assertValidTrigger({ ...welcome, steps: [...welcome.steps, { send: { channel: 'inbox', body: 'tips' } }] });
    const report = dryRun(events, candidate);
    const alone = (definition: typeof welcome, version: number) => {
      const bt = new Backtest({
        workspaceId: 'ws',
        definition: assertValidTrigger(definition),
        version,
        from: new Date('2025-03-01T00:00:00Z'),
        to: new Date('2025-03-08T00:00:00Z'),
      });
      for (const e of events) bt.add(e);
      return bt.report();
    };
    expect(report.current!.report).toEqual(alone(welcome, 1));
    expect(report.candidate.report).toEqual(alone(candidate, 2));
  });

  it('a stricter entry: the customers who stop getting the message, with samples', () => {
    const stricter = assertValidTrigger({ ...welcome, entry: { all: [{ event: 'Signed Up' }, { traits: { plan: 'pro' } }] } });
    const report = dryRun(events, stricter);
    expect(report.entered).toMatchObject({
      current: 2,
      candidate: 1,
      difference: -1,
      stops: { customers: 1, sampleCustomerIds: ['free'] },
    });
    const step = report.steps.find((s) => s.step === 'send email: Welcome')!;
    expect(step).toMatchObject({
      customers: { current: 2, candidate: 1, difference: -1 },
      stops: { customers: 1, sampleCustomerIds: ['free'] },
      starts: { customers: 0 },
    });
    expect(report.messaged).toMatchObject({ current: 2, candidate: 1, stops: { customers: 1, sampleCustomerIds: ['free'] } });
    expect(report.messagesPerDay.current).toMatchObject({ peak: 1, days: { '2025-03-01': 1, '2025-03-02': 1 } });
  });

  it('counts tasks and suppressions per step, and with nothing live everything starts', () => {
    const candidate = {
      ...welcome,
      steps: [{ task: { title: 'Call them' } }, ...welcome.steps, { send: { channel: 'inbox', body: 'again' } }],
      guards: { frequencyCaps: [{ scope: 'trigger', max: 1, per: '7d' }] },
    };
    const report = dryRun(events, candidate, null);
    expect(report.current).toBeNull();
    expect(report.tasks).toEqual({ current: 0, candidate: 2, difference: 2 });
    const task = report.steps.find((s) => s.kind === 'task')!;
    expect(task).toMatchObject({ step: 'task: Call them', tasks: { candidate: 2 }, starts: { customers: 2 } });
    expect(report.entered.starts.customers).toBe(2);
    const again = report.steps.find((s) => s.step === 'send inbox')!;
    expect(Object.values(again.suppressed)).toEqual([{ current: 0, candidate: 2, difference: 2 }]);
    expect(again.customers.candidate).toBe(0);
    expect(Object.values(report.suppressed)).toEqual([{ current: 0, candidate: 2, difference: 2 }]);
  });
});
