/**
 * Reply tokens: the `<token>` of a reply address `reply+<token>@<replyDomain>`. A token names the workspace, the
 * customer and what the mail answers (a conversation, or a message the engine sent outside one), and carries a MAC
 * made with the workspace's reply key, so nobody can write into a conversation whose address they were not sent.
 *
 * Layout (bytes): version 1, kind (`c` conversation, `m` message), then the workspace id, the customer id and the
 * conversation or message id (each a UUID as 0xFF + 16 bytes, any other id as its UTF-8 length 0..254 + the bytes),
 * then the first 10 bytes (80 bits) of HMAC-SHA256 over everything before it. The key is HMAC-SHA256(secret,
 * "journey email reply token"), so the secret is not used bare. Written in lowercase base32 (RFC 4648 alphabet, no
 * padding): mail systems may change the case of an address's local part, and base32 survives that.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ReplyTarget {
  workspaceId: string;
  customerId: string;
  /** The conversation the mail belongs to; else `messageId`: the message it answers. */
  conversationId?: string;
  messageId?: string;
}

const VERSION = 1;
const MAC_BYTES = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
/** Longest id a token holds (bytes of UTF-8): longer ids get no reply address. */
export const MAX_TOKEN_ID_BYTES = 254;

/** Why a token is refused (for logs and the 422 / 550 answers); never says which part of the MAC was wrong. */
export class ReplyTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyTokenError';
  }
}

function field(id: string): Buffer {
  if (UUID.test(id)) return Buffer.concat([Buffer.from([0xff]), Buffer.from(id.replace(/-/g, ''), 'hex')]);
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.length > MAX_TOKEN_ID_BYTES) throw new ReplyTokenError(`id too long for a reply token (${bytes.length} bytes)`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function mac(secret: string, payload: Buffer): Buffer {
  const key = createHmac('sha256', secret).update('journey email reply token').digest();
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

/** The token of a reply address; throws ReplyTokenError for an id too long to carry. */
export function encodeReplyToken(target: ReplyTarget, secret: string): string {
  const ref = target.conversationId ?? target.messageId;
  if (ref === undefined) throw new ReplyTokenError('a reply token names a conversation or a message');
  const kind = target.conversationId !== undefined ? 'c' : 'm';
  const payload = Buffer.concat([
    Buffer.from([VERSION, kind.charCodeAt(0)]),
    field(target.workspaceId),
    field(target.customerId),
    field(ref),
  ]);
  return base32(Buffer.concat([payload, mac(secret, payload)]));
}

/** A token as written, not yet checked: what it claims (the workspace tells which key checks it). */
export interface ClaimedReplyToken {
  target: ReplyTarget;
  payload: Buffer;
  mac: Buffer;
}

/** Reads a token without checking it; undefined when it is not one. */
export function readReplyToken(token: string): ClaimedReplyToken | undefined {
  const text = token.toLowerCase();
  const bytes = unbase32(text);
  // one spelling per token: unused trailing bits must be zero
  if (!bytes || base32(bytes) !== text || bytes.length < 2 + 3 + MAC_BYTES || bytes[0] !== VERSION) return undefined;
  const kind = String.fromCharCode(bytes[1]);
  if (kind !== 'c' && kind !== 'm') return undefined;
  let at = 2;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (at >= bytes.length) return undefined;
    const len = bytes[at];
    if (len === 0xff) {
      if (at + 17 > bytes.length) return undefined;
      const h = bytes.toString('hex', at + 1, at + 17);
      ids.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
      at += 17;
    } else {
      if (at + 1 + len > bytes.length) return undefined;
      ids.push(bytes.toString('utf8', at + 1, at + 1 + len));
      at += 1 + len;
    }
  }
  if (bytes.length - at !== MAC_BYTES) return undefined;
  const [workspaceId, customerId, ref] = ids;
  return {
    target: { workspaceId, customerId, ...(kind === 'c' ? { conversationId: ref } : { messageId: ref }) },
    payload: bytes.subarray(0, at),
    mac: bytes.subarray(at),
  };
}

/** Whether the token was made with `secret` (constant time). */
export function verifyReplyToken(claimed: ClaimedReplyToken, secret: string): boolean {
  return timingSafeEqual(mac(secret, claimed.payload), claimed.mac);
}

/**
 * The checked target of a token: `secretOf` gives the reply key of the workspace the token claims (undefined: that
 * workspace has none). Throws ReplyTokenError when the token is malformed, or was not made with that key.
 */
export async function openReplyToken(
  token: string,
  secretOf: (workspaceId: string) => Promise<string | undefined> | string | undefined,
): Promise<ReplyTarget> {
  const claimed = readReplyToken(token);
  if (!claimed) throw new ReplyTokenError('not a reply token');
  const secret = await secretOf(claimed.target.workspaceId);
  if (secret === undefined || !verifyReplyToken(claimed, secret)) throw new ReplyTokenError('the reply token is not valid');
  return claimed.target;
}

/** `reply+<token>@<domain>`. */
export const replyAddress = (token: string, domain: string): string => `reply+${token}@${domain}`;

/** The token of a `<anything>+<token>@<domain>` address (lowercased), or undefined. */
export function tokenOfAddress(address: string): string | undefined {
  const match = /^[^@+]*\+([a-z2-7]+)@[^@]+$/i.exec(address.trim());
  return match ? match[1].toLowerCase() : undefined;
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
