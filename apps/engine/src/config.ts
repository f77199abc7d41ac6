import { resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { synchronousModeFromEnv, type SynchronousMode } from '@journey/event-store';
import { workspaceIdError } from './auth/api-keys';

export const ROLES = ['api', 'projector', 'reactor', 'dispatcher', 'relay', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/** Everything the engine reads from its environment (DESIGN.md "Configuration by environment"). */
export interface EngineConfig {
  port: number;
  dataDir: string;
  sqliteSynchronous: SynchronousMode;
  eventStoreDbUrl?: string;
  mongoUrl?: string;
  kafkaBrokers?: string[];
  /** The roles this thread runs. */
  roles: Set<Role>;
  /**
   * The roles of JOURNEY_ROLES that run in a worker thread of this process instead (JOURNEY_WORKER_ROLES, default
   * `projector,dispatcher,relay`; empty: one thread does everything). Node runs JavaScript on one thread: the worker
   * takes the read models, deliveries and the relay to the second core, so ingestion and reactor decisions on the
   * main thread never wait behind them. Empty in the worker itself, and when the main thread would be left with no role.
   */
  workerRoles: Set<Role>;
  defaultWorkspace: string;
  writeKey?: string;
  adminKey?: string;
  logLevel: string;
  /** Kafka topics and consumer group, used only with KAFKA_BROKERS (deploy/kafka.md). */
  kafka: KafkaSettings;
  /** Reactors split customers between processes: this process takes the customers whose hash % count === index. */
  partition?: { index: number; count: number };
  /** Delivery channels and retries (the `dispatcher` role). */
  messaging: MessagingConfig;
  /** Requests per second per key, with a burst (JOURNEY_RATE_LIMIT_PER_SECOND / JOURNEY_RATE_LIMIT_BURST; 0: no limit). */
  rateLimit: { perSecond: number; burst: number };
  /** Origins allowed to call the endpoints of admin / csm / analyst keys from a browser (JOURNEY_CORS_ORIGINS). */
  corsOrigins: string[];
  /** How every subscriber (projections, reactors, timers, dispatcher, relay) treats failures (FailurePolicy). */
  failures: FailureConfig;
}

export interface FailureConfig {
  /** Backoff of transient failures, forever: JOURNEY_RETRY_BACKOFF_MS (default 500) doubling up to JOURNEY_RETRY_BACKOFF_MAX_MS (30 s). */
  minMs: number;
  maxMs: number;
  /** Attempts at an event that fails (not for an outage) before it is quarantined: JOURNEY_POISON_ATTEMPTS, default 3. */
  poisonAttempts: number;
}

export interface MessagingConfig {
  webhook?: { url: string; secret?: string; timeoutMs: number };
  email?: { smtpUrl: string; from: string };
  /** `maxAttempts` Infinity: the budget decides. */
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; budgetMs: number };
}

export interface KafkaSettings {
  /** Prefix of the integration topics (`<prefix>customer-events`, ...): JOURNEY_KAFKA_TOPIC_PREFIX, default `journey.`. */
  topicPrefix: string;
  /** Partitions of topics the engine creates: JOURNEY_KAFKA_PARTITIONS, default 6. */
  partitions: number;
  /** Replication factor of topics the engine creates: JOURNEY_KAFKA_REPLICATION_FACTOR, default -1 (the broker's default). */
  replicationFactor: number;
  /** The `ingest` role consumes Segment calls from this topic (JOURNEY_KAFKA_INGEST_TOPIC); unset: no Kafka ingestion. */
  ingestTopic?: string;
  /** Consumer group of the ingestion consumers: JOURNEY_KAFKA_INGEST_GROUP, default `journey-ingest`. */
  ingestGroup: string;
  /** Workspace the ingestion topic's calls belong to: JOURNEY_KAFKA_INGEST_WORKSPACE, default JOURNEY_WORKSPACE. */
  ingestWorkspace: string;
}

export const ENGINE_CONFIG = Symbol('ENGINE_CONFIG');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const roles = parseRoles('JOURNEY_ROLES', env.JOURNEY_ROLES ?? ROLES.join(','));
  const inWorker = isMainThread ? parseRoles('JOURNEY_WORKER_ROLES', env.JOURNEY_WORKER_ROLES ?? DEFAULT_WORKER_ROLES.join(',')).filter((r) => roles.includes(r)) : [];
  const workerRoles = roles.every((r) => inWorker.includes(r)) ? [] : inWorker;
  return {
    port,
    dataDir: resolve(env.JOURNEY_DATA_DIR ?? './data'),
    sqliteSynchronous: synchronousModeFromEnv(env.JOURNEY_SQLITE_SYNCHRONOUS),
    eventStoreDbUrl: env.EVENTSTOREDB_URL || undefined,
    mongoUrl: env.MONGODB_URL || undefined,
    kafkaBrokers: env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) : undefined,
    roles: new Set(roles.filter((r) => !workerRoles.includes(r))),
    workerRoles: new Set(workerRoles),
    defaultWorkspace: loadWorkspace(env),
    writeKey: env.JOURNEY_WRITE_KEY || undefined,
    adminKey: env.JOURNEY_ADMIN_KEY || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    partition: loadPartition(env),
    kafka: loadKafkaSettings(env),
    messaging: loadMessaging(env),
    rateLimit: loadRateLimit(env),
    corsOrigins: (env.JOURNEY_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    failures: loadFailures(env),
  };
}

function loadWorkspace(env: NodeJS.ProcessEnv): string {
  const workspace = env.JOURNEY_WORKSPACE ?? 'default';
  const error = workspaceIdError(workspace);
  if (error) throw new Error(`JOURNEY_WORKSPACE ${error}`);
  return workspace;
}

function loadRateLimit(env: NodeJS.ProcessEnv): EngineConfig['rateLimit'] {
  const count = (name: string, fallback: number): number => {
    const value = Number(env[name] || fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of requests, 0 or more, got "${env[name]}"`);
    return value;
  };
  const perSecond = count('JOURNEY_RATE_LIMIT_PER_SECOND', 1000);
  const burst = count('JOURNEY_RATE_LIMIT_BURST', 2 * perSecond);
  if (perSecond > 0 && burst < 1) throw new Error(`JOURNEY_RATE_LIMIT_BURST must be at least 1, got "${env.JOURNEY_RATE_LIMIT_BURST}"`);
  return { perSecond, burst };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${env[name]}"`);
  return value;
}

function loadFailures(env: NodeJS.ProcessEnv): FailureConfig {
  const positive = (name: string, fallback: number) => positiveInt(env, name, fallback);
  const minMs = positive('JOURNEY_RETRY_BACKOFF_MS', 500);
  return { minMs, maxMs: Math.max(minMs, positive('JOURNEY_RETRY_BACKOFF_MAX_MS', 30_000)), poisonAttempts: positive('JOURNEY_POISON_ATTEMPTS', 3) };
}

export const DEFAULT_WORKER_ROLES: readonly Role[] = ['projector', 'dispatcher', 'relay'];

function parseRoles(name: string, value: string): Role[] {
  const roles = value.split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new Error(`${name}: unknown role "${r}" (known: ${ROLES.join(', ')})`);
  return roles as Role[];
}

function loadMessaging(env: NodeJS.ProcessEnv): MessagingConfig {
  const positive = (name: string, fallback: number) => positiveInt(env, name, fallback);
  if (env.JOURNEY_WEBHOOK_URL && !/^https?:\/\//.test(env.JOURNEY_WEBHOOK_URL)) throw new Error(`JOURNEY_WEBHOOK_URL must be an http(s) URL, got "${env.JOURNEY_WEBHOOK_URL}"`);
  return {
    webhook: env.JOURNEY_WEBHOOK_URL ? { url: env.JOURNEY_WEBHOOK_URL, secret: env.JOURNEY_WEBHOOK_SECRET || undefined, timeoutMs: positive('JOURNEY_WEBHOOK_TIMEOUT_MS', 10_000) } : undefined,
    email: env.SMTP_URL ? { smtpUrl: env.SMTP_URL, from: env.JOURNEY_EMAIL_FROM || 'Journey Engine <journey@localhost>' } : undefined,
    retry: {
      maxAttempts: env.JOURNEY_DELIVERY_MAX_ATTEMPTS ? positive('JOURNEY_DELIVERY_MAX_ATTEMPTS', 0) : Infinity,
      baseDelayMs: positive('JOURNEY_DELIVERY_BACKOFF_MS', 1000),
      maxDelayMs: positive('JOURNEY_DELIVERY_BACKOFF_MAX_MS', 3_600_000),
      budgetMs: positive('JOURNEY_DELIVERY_RETRY_BUDGET_MS', 24 * 3_600_000),
    },
  };
}

function loadPartition(env: NodeJS.ProcessEnv): EngineConfig['partition'] {
  if (!env.JOURNEY_PARTITION_COUNT) return undefined;
  const count = Number(env.JOURNEY_PARTITION_COUNT);
  const index = Number(env.JOURNEY_PARTITION_INDEX ?? 0);
  if (!Number.isInteger(count) || count < 1) throw new Error(`JOURNEY_PARTITION_COUNT must be a positive integer, got "${env.JOURNEY_PARTITION_COUNT}"`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new Error(`JOURNEY_PARTITION_INDEX must be an integer from 0 to ${count - 1}, got "${env.JOURNEY_PARTITION_INDEX}"`);
  return { index, count };
}

function loadKafkaSettings(env: NodeJS.ProcessEnv): KafkaSettings {
  const partitions = Number(env.JOURNEY_KAFKA_PARTITIONS ?? 6);
  const replicationFactor = Number(env.JOURNEY_KAFKA_REPLICATION_FACTOR ?? -1);
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`JOURNEY_KAFKA_PARTITIONS must be a positive integer, got "${env.JOURNEY_KAFKA_PARTITIONS}"`);
  if (!Number.isInteger(replicationFactor) || (replicationFactor < 1 && replicationFactor !== -1)) {
    throw new Error(`JOURNEY_KAFKA_REPLICATION_FACTOR must be a positive integer or -1, got "${env.JOURNEY_KAFKA_REPLICATION_FACTOR}"`);
  }
  return {
    topicPrefix: env.JOURNEY_KAFKA_TOPIC_PREFIX ?? 'journey.',
    partitions,
    replicationFactor,
    ingestTopic: env.JOURNEY_KAFKA_INGEST_TOPIC || undefined,
    ingestGroup: env.JOURNEY_KAFKA_INGEST_GROUP || 'journey-ingest',
    ingestWorkspace: env.JOURNEY_KAFKA_INGEST_WORKSPACE || env.JOURNEY_WORKSPACE || 'default',
  };
}
