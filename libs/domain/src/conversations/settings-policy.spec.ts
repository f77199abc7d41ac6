import { SettingsError, validSettings } from './settings';

describe('workspace settings: the change policy', () => {
  it('keeps a valid policy, with or without its period', () => {
    expect(validSettings({ policy: { maxDailyMessagesOnEnable: 500, period: '14d' } })).toEqual({
      policy: { maxDailyMessagesOnEnable: 500, period: '14d' },
    });
    expect(validSettings({ policy: { maxDailyMessagesOnEnable: 0 } })).toEqual({ policy: { maxDailyMessagesOnEnable: 0 } });
    expect(validSettings({ slack: { webhookUrl: 'hook' } })).toEqual({ slack: { webhookUrl: 'hook' } });
  });

  it('refuses a bad policy, naming the field', () => {
    const error = (doc: unknown) => {
      try {
        validSettings(doc);
      } catch (e) {
        expect(e).toBeInstanceOf(SettingsError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(error({ policy: 5 })).toBe('policy: must be an object');
    expect(error({ policy: { maxDailyMessagesOnEnable: 1.5 } })).toMatch(/^policy.maxDailyMessagesOnEnable: must be a whole number/);
    expect(error({ policy: { maxDailyMessagesOnEnable: '10' } })).toMatch(/^policy.maxDailyMessagesOnEnable: /);
    expect(error({ policy: { period: '2h' } })).toMatch(/^policy.period: must be a duration from 1d to 90d/);
    expect(error({ policy: { period: '91d' } })).toMatch(/^policy.period: /);
    expect(error({ policy: { maxDaily: 3 } })).toBe('policy.maxDaily: unknown setting (known: maxDailyMessagesOnEnable, period)');
  });
});
