import { resolve } from 'node:path';
import { loadConfig } from './config';

describe('engine configuration from the environment', () => {
  it('given nothing set, then every default', () => {
    const config = loadConfig({});
    expect({ ...config, roles: [...config.roles], workerRoles: [...config.workerRoles] }).toEqual({
      port: 3000,
      dataDir: resolve('./data'),
      sqliteSynchronous: 'FULL',
      eventStoreDbUrl: undefined,
      mongoUrl: undefined,
      kafkaBrokers: undefined,
      roles: ['api', 'reactor', 'ingest'],
      workerRoles: ['projector', 'dispatcher', 'relay'],
      defaultWorkspace: 'default',
      writeKey: undefined,
      adminKey: undefined,
      logLevel: 'info',
      partition: undefined,
      kafka: {
        topicPrefix: 'journey.',
        partitions: 6,
        replicationFactor: -1,
        ingestTopic: undefined,
        ingestGroup: 'journey-ingest',
        ingestWorkspace: 'default',
      },
      messaging: {
        webhook: undefined,
        email: undefined,
        retry: { maxAttempts: Infinity, baseDelayMs: 1000, maxDelayMs: 3_600_000, budgetMs: 86_400_000 },
      },
      rateLimit: { perSecond: 1000, burst: 2000 },
      corsOrigins: [],
      failures: { minMs: 500, maxMs: 30_000, poisonAttempts: 3 },
    });
  });

  it('given values, then it reads them (lists trimmed, empty values as unset where they were)', () => {
    const config = loadConfig({
      PORT: '8080',
      JOURNEY_ROLES: 'api, reactor',
      JOURNEY_SQLITE_SYNCHRONOUS: 'normal',
      KAFKA_BROKERS: 'a:9092, b:9092,',
      MONGODB_URL: '',
      JOURNEY_WORKSPACE: 'acme',
      JOURNEY_PARTITION_COUNT: '4',
      JOURNEY_PARTITION_INDEX: '3',
      JOURNEY_KAFKA_REPLICATION_FACTOR: '3',
      JOURNEY_RATE_LIMIT_PER_SECOND: '0.5',
      JOURNEY_RATE_LIMIT_BURST: '',
      JOURNEY_CORS_ORIGINS: 'https://a.example, https://b.example',
      JOURNEY_RETRY_BACKOFF_MS: '2000',
      JOURNEY_RETRY_BACKOFF_MAX_MS: '1000',
    });
    expect([...config.roles]).toEqual(['api', 'reactor']);
    expect(config.workerRoles.size).toBe(0);
    expect(config).toMatchObject({
      port: 8080,
      sqliteSynchronous: 'NORMAL',
      kafkaBrokers: ['a:9092', 'b:9092'],
      mongoUrl: undefined,
      defaultWorkspace: 'acme',
      partition: { index: 3, count: 4 },
      kafka: { replicationFactor: 3, ingestWorkspace: 'acme' },
      rateLimit: { perSecond: 0.5, burst: 1 },
      corsOrigins: ['https://a.example', 'https://b.example'],
      failures: { minMs: 2000, maxMs: 2000 },
    });
  });

  it.each([
    ['PORT', '70000', 'PORT must be a port number, got "70000"'],
    ['PORT', 'http', 'PORT must be a port number, got "http"'],
    ['JOURNEY_ROLES', 'api,cook', 'JOURNEY_ROLES: unknown role "cook" (known: api, projector, reactor, dispatcher, relay, ingest)'],
    ['JOURNEY_WORKER_ROLES', 'relay,x', 'JOURNEY_WORKER_ROLES: unknown role "x"'],
    ['JOURNEY_SQLITE_SYNCHRONOUS', 'OFF', 'JOURNEY_SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "OFF"'],
    ['JOURNEY_WORKSPACE', 'no spaces', 'JOURNEY_WORKSPACE '],
    ['JOURNEY_KAFKA_INGEST_WORKSPACE', 'no spaces', 'JOURNEY_KAFKA_INGEST_WORKSPACE '],
    ['JOURNEY_PARTITION_COUNT', '0', 'JOURNEY_PARTITION_COUNT must be a positive integer, got "0"'],
    ['JOURNEY_KAFKA_PARTITIONS', '1.5', 'JOURNEY_KAFKA_PARTITIONS must be a positive integer, got "1.5"'],
    ['JOURNEY_KAFKA_REPLICATION_FACTOR', '0', 'JOURNEY_KAFKA_REPLICATION_FACTOR must be a positive integer or -1, got "0"'],
    ['JOURNEY_RATE_LIMIT_PER_SECOND', '-1', 'JOURNEY_RATE_LIMIT_PER_SECOND must be a number of requests, 0 or more, got "-1"'],
    ['JOURNEY_RATE_LIMIT_BURST', 'lots', 'JOURNEY_RATE_LIMIT_BURST must be a number of requests, 0 or more, got "lots"'],
    ['JOURNEY_RATE_LIMIT_BURST', '0.5', 'JOURNEY_RATE_LIMIT_BURST must be at least 1, got "0.5"'],
    ['JOURNEY_RETRY_BACKOFF_MS', '', 'JOURNEY_RETRY_BACKOFF_MS must be a positive integer, got ""'],
    ['JOURNEY_POISON_ATTEMPTS', 'three', 'JOURNEY_POISON_ATTEMPTS must be a positive integer, got "three"'],
    ['JOURNEY_WEBHOOK_URL', 'ftp://x', 'JOURNEY_WEBHOOK_URL must be an http(s) URL, got "ftp://x"'],
  ])('given %s=%s, then it refuses to start, naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('given a partition index outside the count, then it names the index and the range', () => {
    expect(() => loadConfig({ JOURNEY_PARTITION_COUNT: '2', JOURNEY_PARTITION_INDEX: '2' })).toThrow(
      'JOURNEY_PARTITION_INDEX must be an integer from 0 to 1, got "2"',
    );
    expect(() => loadConfig({ JOURNEY_PARTITION_COUNT: '2', JOURNEY_PARTITION_INDEX: '-1' })).toThrow(
      'JOURNEY_PARTITION_INDEX must be an integer from 0 to 1, got "-1"',
    );
  });

  it('given several wrong variables, then one error names each of them', () => {
    expect(loadConfig({ JOURNEY_WORKSPACE: 'acme' }).kafka.ingestWorkspace).toBe('acme');
    expect(() => loadConfig({ PORT: 'x', JOURNEY_POISON_ATTEMPTS: '0' })).toThrow(
      /PORT must be a port number, got "x"\nJOURNEY_POISON_ATTEMPTS must be a positive integer, got "0"/,
    );
  });
});
