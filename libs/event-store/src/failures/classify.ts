/**
 * Which failures a subscriber waits out and which it quarantines (see FailurePolicy).
 *
 * - `transient`: the engine or its infrastructure is not answering (a MongoDB, Kafka or EventStoreDB outage, a busy
 *   or full disk, a timeout, a concurrent writer). It says nothing about the event: retried forever, with backoff.
 * - `poison`: anything else, e.g. a handler or a store deterministically rejecting this one event (TypeError,
 *   RangeError such as "Invalid time value" or a stack overflow, MongoDB document validation, BSON errors). Retried a
 *   few times, then the event is quarantined.
 *
 * Adapters that know an error of theirs is transient say so with `markTransient`.
 */
export type FailureKind = 'transient' | 'poison';

const TRANSIENT = Symbol.for('journey.failure.transient');

/** Marks an error as transient (an outage, not the event's fault), whatever its class. */
export function markTransient<E extends Error>(error: E): E {
  (error as unknown as Record<symbol, boolean>)[TRANSIENT] = true;
  return error;
}

/** Node system errors and SQLite result codes of a resource that is busy, full, unreachable or interrupted. */
const TRANSIENT_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EAGAIN',
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL|INTERRUPT|NOMEM)/;

/** MongoDB driver errors of the connection, the topology or a timeout (not of a document). */
const TRANSIENT_MONGO_NAMES =
  /^Mongo(Network|NetworkTimeout|ServerSelection|ServerClosed|TopologyClosed|ClientClosed|PoolCleared|WaitQueueTimeout|NotConnected|OperationTimeout|ExpiredSession|StalePrimary|UnexpectedServerResponse|Decompression)Error$/;
const TRANSIENT_MONGO_LABELS = [
  'RetryableWriteError',
  'TransientTransactionError',
  'ResetPool',
  'PoolRequestedRetry',
  'SystemOverloadedError',
  'RetryableError',
];
/** MongoDB server codes of a node that is stepping down, shutting down, overloaded or out of time. */
const TRANSIENT_MONGO_CODES = new Set([6, 7, 24, 46, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 202, 251, 279]);

/** KafkaJS errors of the connection, the cluster's metadata, a timeout, or retries given up on a retriable error. */
const TRANSIENT_KAFKA = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** Kafka protocol errors of a broker or producer session in trouble, whatever kafkajs says of retrying them. */
const TRANSIENT_KAFKA_TYPES = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'KAFKA_STORAGE_ERROR',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'BROKER_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE',
]);

/** EventStoreDB client errors (they keep Error's name; the class tells). */
const TRANSIENT_CLASSES = new Set([
  'UnavailableError',
  'DeadlineExceededError',
  'TimeoutError',
  'CancelledError',
  'NotLeaderError',
  'WrongExpectedRevisionError',
  'AbortError',
]);

function transientItself(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    retriable?: unknown;
    errorLabels?: unknown;
    constructor?: { name?: string };
    [TRANSIENT]?: boolean;
  };
  if (e[TRANSIENT] === true) return true;
  if (e.retriable === true) return true; // KafkaJS: connection, timeout and retriable protocol errors
  if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || TRANSIENT_SQLITE.test(e.code))) return true;
  const name = typeof e.name === 'string' ? e.name : '';
  if (TRANSIENT_MONGO_NAMES.test(name) || TRANSIENT_CLASSES.has(name) || TRANSIENT_CLASSES.has(e.constructor?.name ?? '')) return true;
  if (TRANSIENT_KAFKA.has(name) || (name.startsWith('KafkaJS') && TRANSIENT_KAFKA_TYPES.has(String((e as { type?: unknown }).type))))
    return true;
  if (name.startsWith('Mongo')) {
    if (Array.isArray(e.errorLabels) && e.errorLabels.some((l) => TRANSIENT_MONGO_LABELS.includes(String(l)))) return true;
    if (typeof e.code === 'number' && TRANSIENT_MONGO_CODES.has(e.code)) return true;
  }
  return false;
}

/** Whether the error, or an error in its `cause` chain (KafkaJS: `originalError`), passes `test`. */
function inCauseChain(error: unknown, test: (e: unknown) => boolean): boolean {
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (test(e)) return true;
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return false;
}

/**
 * `transient` when the error, or any error in its `cause` chain (KafkaJS: `originalError`), is one of the
 * infrastructure; else `poison`.
 */
export function classifyFailure(error: unknown): FailureKind {
  return inCauseChain(error, transientItself) ? 'transient' : 'poison';
}

const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);
const DISK_FULL_MESSAGE = /SQLITE_FULL|ENOSPC|EDQUOT|database or disk is full|no space left on device/i;

/** A write failed because the disk (or the quota) is full: by the code or the message of the error or of its causes. */
export function isDiskFull(error: unknown): boolean {
  return inCauseChain(error, (e) => {
    const { code, message } = e as { code?: unknown; message?: unknown };
    return (typeof code === 'string' && DISK_FULL_CODES.has(code)) || (typeof message === 'string' && DISK_FULL_MESSAGE.test(message));
  });
}

/** A short name of the error's class for a dead letter's `reason`: `TypeError`, `MongoServerError 121`, `SQLITE_CONSTRAINT`. */
export function failureReason(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const name = error.name && error.name !== 'Error' ? error.name : (error.constructor?.name ?? 'Error');
  return code !== undefined && code !== null && code !== '' ? `${name} ${String(code)}` : name;
}

/** The error as an Error (one from another realm, e.g. a native addon's under jest's sandbox, is taken as it is). */
export function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return error as Error;
  return new Error(String(error));
}
