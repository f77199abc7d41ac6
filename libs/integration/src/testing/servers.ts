/**
 * Test access to the real servers that scripts/servers/up.sh installs and starts (Kafka, and FerretDB as the
 * MongoDB wire-protocol server). Suites that need one go through describeWithServer: with the env var set they
 * run; without it they show ONE test that warns loudly, and with JOURNEY_REQUIRE_SERVERS=1 (set by .ci/run) that test
 * fails, so a CI run can never pass by silently skipping its integration tests.
 */
export type ServerEnv = 'KAFKA_BROKERS' | 'MONGODB_URL';

function envValue(name: ServerEnv): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

/** The brokers in KAFKA_BROKERS (comma-separated host:port list), or undefined when it is not set. */
export function kafkaBrokers(): string[] | undefined {
  return envValue('KAFKA_BROKERS')
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** MONGODB_URL (e.g. mongodb://127.0.0.1:27018/journey_test), or undefined when it is not set. */
export function mongoUrl(): string | undefined {
  return envValue('MONGODB_URL');
}

/** True when a missing server must fail the run instead of skipping (JOURNEY_REQUIRE_SERVERS=1, as .ci/run sets it). */
export function serversRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.JOURNEY_REQUIRE_SERVERS === '1';
}

/** Runs `suite` (given the env var's value) when `envVar` is set; otherwise registers one warning/failing test. */
export function describeWithServer(name: string, envVar: ServerEnv, suite: (value: string) => void): void {
  const value = envValue(envVar);
  if (value) {
    describe(name, () => suite(value));
    return;
  }
  const message = `SKIPPED: ${name} needs ${envVar} (run scripts/servers/up.sh)`;
  describe(name, () => {
    it(`needs ${envVar}`, () => {
      if (serversRequired()) throw new Error(`${message}, and JOURNEY_REQUIRE_SERVERS=1 forbids skipping`);
      console.warn(`\n${'!'.repeat(message.length)}\n${message}\n${'!'.repeat(message.length)}\n`);
    });
  });
}
