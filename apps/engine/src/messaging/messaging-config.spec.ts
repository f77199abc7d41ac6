import { loadConfig } from '../config';

describe('messaging configuration', () => {
  it('has only the always-on channels and default retries without delivery variables: 24 h of capped backoff, no attempt limit', () => {
    expect(loadConfig({}).messaging).toEqual({
      webhook: undefined,
      email: undefined,
      retry: { maxAttempts: Infinity, baseDelayMs: 1000, maxDelayMs: 3_600_000, budgetMs: 86_400_000 },
    });
  });

  it('reads the webhook, SMTP and retry settings', () => {
    const { messaging } = loadConfig({
      JOURNEY_WEBHOOK_URL: 'https://hooks.example.com/journey',
      JOURNEY_WEBHOOK_SECRET: 's',
      JOURNEY_WEBHOOK_TIMEOUT_MS: '2500',
      SMTP_URL: 'smtp://mail:25',
      JOURNEY_EMAIL_FROM: 'CS <cs@example.com>',
      JOURNEY_DELIVERY_MAX_ATTEMPTS: '3',
      JOURNEY_DELIVERY_BACKOFF_MS: '50',
      JOURNEY_DELIVERY_BACKOFF_MAX_MS: '400',
      JOURNEY_DELIVERY_RETRY_BUDGET_MS: '7200000',
    });
    expect(messaging).toEqual({
      webhook: { url: 'https://hooks.example.com/journey', secret: 's', timeoutMs: 2500 },
      email: { smtpUrl: 'smtp://mail:25', from: 'CS <cs@example.com>' },
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 400, budgetMs: 7_200_000 },
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ JOURNEY_WEBHOOK_URL: 'ftp://x' })).toThrow(/JOURNEY_WEBHOOK_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ JOURNEY_DELIVERY_MAX_ATTEMPTS: '0' })).toThrow(/JOURNEY_DELIVERY_MAX_ATTEMPTS must be a positive integer/);
    expect(() => loadConfig({ JOURNEY_DELIVERY_RETRY_BUDGET_MS: '24h' })).toThrow(
      /JOURNEY_DELIVERY_RETRY_BUDGET_MS must be a positive integer, got "24h"/,
    );
    expect(() => loadConfig({ JOURNEY_WEBHOOK_URL: 'http://x', JOURNEY_WEBHOOK_TIMEOUT_MS: 'soon' })).toThrow(/JOURNEY_WEBHOOK_TIMEOUT_MS/);
  });
});
