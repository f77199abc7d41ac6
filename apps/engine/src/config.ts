import { resolve } from 'node:path';
import { synchronousModeFromEnv, type SynchronousMode } from '@journey/event-store';
import { z } from 'zod';
import { workspaceIdError } from './auth/api-keys';
import {
  list,
  number,
  optionalList,
  optionalNumber,
  optionalText,
  parsed,
  parseEnv,
  positiveInteger,
  text,
  textOr,
  variable,
  type NumberRule,
} from './env';

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
  /**
   * The SMTP listener for replies to `reply+<token>@<replyDomain>` (deploy/email.md), run with the `api` role: off
   * unless JOURNEY_SMTP_INBOUND_PORT is set (0: any free port); host JOURNEY_SMTP_INBOUND_HOST (default 127.0.0.1);
   * mails over JOURNEY_SMTP_INBOUND_MAX_BYTES (default 10 MiB) are refused.
   */
  smtpInbound?: { port: number; host: string; maxBytes: number };
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

const ROLE_LIST = z.enum(ROLES);
export const DEFAULT_WORKER_ROLES: readonly Role[] = ['projector', 'dispatcher', 'relay'];

/** A comma-separated list of roles (`fallback` when unset). */
const roles = (fallback: readonly Role[]) =>
  variable<Role[]>((raw) => {
    const names = (raw ?? fallback.join(','))
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    const unknown = names.find((r) => !ROLE_LIST.safeParse(r).success);
    return unknown === undefined ? { value: names as Role[] } : { error: `: unknown role "${unknown}" (known: ${ROLES.join(', ')})` };
  });

const requests: NumberRule = { what: 'a number of requests, 0 or more', valid: (n) => Number.isFinite(n) && n >= 0, emptyIsUnset: true };

/** Every variable the engine reads (DESIGN.md "Configuration by environment", deploy/configuration.md). */
/** A workspace id, checked as keys' workspace ids are (workspaceIdError). */
function workspaceId(workspace: string): { value: string } | { error: string } {
  const error = workspaceIdError(workspace);
  return error ? { error: ` ${error}` } : { value: workspace };
}

const ENV = z.object({
  PORT: number({ what: 'a port number', valid: (n) => Number.isInteger(n) && n >= 0 && n <= 65535 }, 3000),
  JOURNEY_ROLES: roles(ROLES),
  JOURNEY_WORKER_ROLES: roles(DEFAULT_WORKER_ROLES),
  JOURNEY_DATA_DIR: text('./data'),
  JOURNEY_SQLITE_SYNCHRONOUS: parsed(synchronousModeFromEnv),
  EVENTSTOREDB_URL: optionalText(),
  MONGODB_URL: optionalText(),
  KAFKA_BROKERS: optionalList(),
  JOURNEY_WORKSPACE: variable<string>((raw) => workspaceId(raw ?? 'default')),
  JOURNEY_WRITE_KEY: optionalText(),
  JOURNEY_ADMIN_KEY: optionalText(),
  LOG_LEVEL: text('info'),
  JOURNEY_PARTITION_COUNT: optionalNumber({ ...positiveInteger, emptyIsUnset: true }),
  JOURNEY_PARTITION_INDEX: variable((raw) => ({ value: Number(raw ?? 0) })), // checked against the count (partitionOf)
  JOURNEY_KAFKA_TOPIC_PREFIX: text('journey.'),
  JOURNEY_KAFKA_PARTITIONS: number(positiveInteger, 6),
  JOURNEY_KAFKA_REPLICATION_FACTOR: number(
    { what: 'a positive integer or -1', valid: (n) => Number.isInteger(n) && (n >= 1 || n === -1) },
    -1,
  ),
  JOURNEY_KAFKA_INGEST_TOPIC: optionalText(),
  JOURNEY_KAFKA_INGEST_GROUP: textOr('journey-ingest'),
  JOURNEY_KAFKA_INGEST_WORKSPACE: variable<string | undefined>((raw) => (raw ? workspaceId(raw) : { value: undefined })),
  JOURNEY_WEBHOOK_URL: variable<string | undefined>((raw) =>
    !raw || /^https?:\/\//.test(raw) ? { value: raw || undefined } : { error: ` must be an http(s) URL, got "${raw}"` },
  ),
  JOURNEY_WEBHOOK_SECRET: optionalText(),
  JOURNEY_WEBHOOK_TIMEOUT_MS: number(positiveInteger, 10_000),
  SMTP_URL: optionalText(),
  JOURNEY_EMAIL_FROM: textOr('Journey Engine <journey@localhost>'),
  JOURNEY_DELIVERY_MAX_ATTEMPTS: number({ ...positiveInteger, emptyIsUnset: true }, Infinity),
  JOURNEY_DELIVERY_BACKOFF_MS: number(positiveInteger, 1000),
  JOURNEY_DELIVERY_BACKOFF_MAX_MS: number(positiveInteger, 3_600_000),
  JOURNEY_DELIVERY_RETRY_BUDGET_MS: number(positiveInteger, 24 * 3_600_000),
  JOURNEY_RATE_LIMIT_PER_SECOND: number(requests, 1000),
  JOURNEY_RATE_LIMIT_BURST: optionalNumber(requests),
  JOURNEY_CORS_ORIGINS: list(),
  JOURNEY_RETRY_BACKOFF_MS: number(positiveInteger, 500),
  JOURNEY_RETRY_BACKOFF_MAX_MS: number(positiveInteger, 30_000),
  JOURNEY_POISON_ATTEMPTS: number(positiveInteger, 3),
  JOURNEY_SMTP_INBOUND_PORT: optionalNumber({
    what: 'a port number',
    valid: (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    emptyIsUnset: true,
  }),
  JOURNEY_SMTP_INBOUND_HOST: textOr('127.0.0.1'),
  JOURNEY_SMTP_INBOUND_MAX_BYTES: number(positiveInteger, 10 * 1024 * 1024),
});

/** The engine's configuration from `env`; throws an Error naming each variable that is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const v = parseEnv(ENV, env);
  const inWorker = v.JOURNEY_WORKER_ROLES.filter((r) => v.JOURNEY_ROLES.includes(r));
  const workerRoles = v.JOURNEY_ROLES.every((r) => inWorker.includes(r)) ? [] : inWorker;
  return {
    port: v.PORT,
    dataDir: resolve(v.JOURNEY_DATA_DIR),
    sqliteSynchronous: v.JOURNEY_SQLITE_SYNCHRONOUS,
    eventStoreDbUrl: v.EVENTSTOREDB_URL,
    mongoUrl: v.MONGODB_URL,
    kafkaBrokers: v.KAFKA_BROKERS,
    roles: new Set(v.JOURNEY_ROLES.filter((r) => !workerRoles.includes(r))),
    workerRoles: new Set(workerRoles),
    defaultWorkspace: v.JOURNEY_WORKSPACE,
    writeKey: v.JOURNEY_WRITE_KEY,
    adminKey: v.JOURNEY_ADMIN_KEY,
    logLevel: v.LOG_LEVEL,
    partition: partitionOf(v.JOURNEY_PARTITION_COUNT, v.JOURNEY_PARTITION_INDEX, env.JOURNEY_PARTITION_INDEX),
    kafka: {
      topicPrefix: v.JOURNEY_KAFKA_TOPIC_PREFIX,
      partitions: v.JOURNEY_KAFKA_PARTITIONS,
      replicationFactor: v.JOURNEY_KAFKA_REPLICATION_FACTOR,
      ingestTopic: v.JOURNEY_KAFKA_INGEST_TOPIC,
      ingestGroup: v.JOURNEY_KAFKA_INGEST_GROUP,
      ingestWorkspace: v.JOURNEY_KAFKA_INGEST_WORKSPACE ?? v.JOURNEY_WORKSPACE,
    },
    messaging: {
      webhook: v.JOURNEY_WEBHOOK_URL
        ? { url: v.JOURNEY_WEBHOOK_URL, secret: v.JOURNEY_WEBHOOK_SECRET, timeoutMs: v.JOURNEY_WEBHOOK_TIMEOUT_MS }
        : undefined,
      email: v.SMTP_URL ? { smtpUrl: v.SMTP_URL, from: v.JOURNEY_EMAIL_FROM } : undefined,
      retry: {
        maxAttempts: v.JOURNEY_DELIVERY_MAX_ATTEMPTS,
        baseDelayMs: v.JOURNEY_DELIVERY_BACKOFF_MS,
        maxDelayMs: v.JOURNEY_DELIVERY_BACKOFF_MAX_MS,
        budgetMs: v.JOURNEY_DELIVERY_RETRY_BUDGET_MS,
      },
    },
    rateLimit: rateLimitOf(v.JOURNEY_RATE_LIMIT_PER_SECOND, v.JOURNEY_RATE_LIMIT_BURST, env.JOURNEY_RATE_LIMIT_BURST),
    corsOrigins: v.JOURNEY_CORS_ORIGINS,
    failures: {
      minMs: v.JOURNEY_RETRY_BACKOFF_MS,
      maxMs: Math.max(v.JOURNEY_RETRY_BACKOFF_MS, v.JOURNEY_RETRY_BACKOFF_MAX_MS),
      poisonAttempts: v.JOURNEY_POISON_ATTEMPTS,
    },
    ...(v.JOURNEY_SMTP_INBOUND_PORT !== undefined && {
      smtpInbound: { port: v.JOURNEY_SMTP_INBOUND_PORT, host: v.JOURNEY_SMTP_INBOUND_HOST, maxBytes: v.JOURNEY_SMTP_INBOUND_MAX_BYTES },
    }),
  };
}

/** The rules between variables, which a field alone cannot check. */
function partitionOf(count: number | undefined, index: number, raw: string | undefined): EngineConfig['partition'] {
  if (count === undefined) return undefined;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`JOURNEY_PARTITION_INDEX must be an integer from 0 to ${count - 1}, got "${raw}"`);
  }
  return { index, count };
}

function rateLimitOf(perSecond: number, burst = 2 * perSecond, raw: string | undefined): EngineConfig['rateLimit'] {
  if (perSecond > 0 && burst < 1) throw new Error(`JOURNEY_RATE_LIMIT_BURST must be at least 1, got "${raw}"`);
  return { perSecond, burst };
}
