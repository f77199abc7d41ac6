import { describe, expect, it } from 'vitest';
import { describeAuthor, statusOf, triggerFigures, type TriggerStats } from './model';

describe('trigger list figures and labels', () => {
  it('adds up live runs, sends, suppressions and conversions over every version of a trigger', () => {
    const stats: TriggerStats[] = [
      {
        triggerId: 'nudge',
        version: 1,
        runs: 12,
        converted: 3,
        steps: [{ step: '0', sent: 10, suppressed: { consent: 1 } }],
        live: { runs: 10, converted: 2, suppressed: { consent: 1, 'frequency-cap': 2 } },
      },
      {
        triggerId: 'nudge',
        version: 2,
        runs: 5,
        converted: 1,
        steps: [
          { step: '0', sent: 4, suppressed: {} },
          { step: '1', sent: 1, suppressed: { consent: 2 } },
        ],
      },
      { triggerId: 'other', version: 1, runs: 0, converted: 0, steps: [] },
    ];
    const f = triggerFigures(stats);
    expect(f.get('nudge')).toEqual({ runs: 15, sent: 15, suppressed: 5, converted: 3 });
    expect(f.get('other')).toEqual({ runs: 0, sent: 0, suppressed: 0, converted: 0 });
    expect(f.has('missing')).toBe(false);
  });

  it('names the status: a trigger never enabled is a draft', () => {
    expect(statusOf({ id: 'a', name: 'A', version: 1, enabled: true, everEnabled: true })).toBe('enabled');
    expect(statusOf({ id: 'a', name: 'A', version: 2, enabled: false, everEnabled: true })).toBe('disabled');
    expect(statusOf({ id: 'a', name: 'A', version: 1, enabled: false, everEnabled: false })).toBe('draft');
  });

  it('says who saved a version', () => {
    expect(describeAuthor('http:csm:ann')).toBe('ann (csm)');
    expect(describeAuthor('http:admin')).toBe('an admin key');
    expect(describeAuthor('http:csm')).toBe('a csm key');
    expect(describeAuthor('cli')).toBe('cli');
  });
});
