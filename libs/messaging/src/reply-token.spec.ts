import { randomUUID } from 'node:crypto';
import {
  ReplyTokenError,
  encodeReplyToken,
  openReplyToken,
  readReplyToken,
  replyAddress,
  tokenOfAddress,
  type ReplyTarget,
} from './reply-token';

const SECRET = 'reply-key-of-acme';
const keys: Record<string, string> = { acme: SECRET, 'acme-eu': 'reply-key-of-acme-eu' };
const secretOf = (ws: string) => keys[ws];

describe('reply tokens', () => {
  const conversation: ReplyTarget = { workspaceId: 'acme', customerId: 'user-42', conversationId: randomUUID() };

  it('round-trips a conversation and a message target, through the address and a change of case', async () => {
    const token = encodeReplyToken(conversation, SECRET);
    expect(token).toMatch(/^[a-z2-7]+$/);
    const address = replyAddress(token, 'reply.acme.test');
    expect(address).toBe(`reply+${token}@reply.acme.test`);
    expect(tokenOfAddress(address.toUpperCase())).toBe(token);
    expect(await openReplyToken(tokenOfAddress(address)!, secretOf)).toEqual(conversation);

    const message: ReplyTarget = { workspaceId: 'acme', customerId: 'ünïcode cüstomer', messageId: 'not-a-uuid:7' };
    expect(await openReplyToken(encodeReplyToken(message, SECRET), secretOf)).toEqual(message);
  });

  it('refuses a forged or altered token', async () => {
    const token = encodeReplyToken(conversation, SECRET);
    // made with another key
    await expect(openReplyToken(encodeReplyToken(conversation, 'guessed'), secretOf)).rejects.toThrow(ReplyTokenError);
    // the customer changed, the MAC kept
    const claimed = readReplyToken(token)!;
    const other = encodeReplyToken({ ...conversation, customerId: 'user-43' }, SECRET);
    const spliced = readReplyToken(other)!;
    const forged = Buffer.concat([spliced.payload, claimed.mac]);
    await expect(openReplyToken(base32(forged), secretOf)).rejects.toThrow('not valid');
    // every single character changed
    for (let i = 0; i < token.length; i++) {
      const altered = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
      await expect(openReplyToken(altered, secretOf)).rejects.toThrow(ReplyTokenError);
    }
    // truncated, garbage, not base32
    await expect(openReplyToken(token.slice(0, -2), secretOf)).rejects.toThrow(ReplyTokenError);
    await expect(openReplyToken('hello', secretOf)).rejects.toThrow(ReplyTokenError);
    await expect(openReplyToken('0189', secretOf)).rejects.toThrow(ReplyTokenError);
  });

  it("refuses another workspace's token, and one of a workspace without a reply key", async () => {
    const theirs = encodeReplyToken({ ...conversation, workspaceId: 'acme-eu' }, keys['acme-eu']);
    // it opens for acme-eu only: checked with acme's key (as the Postmark webhook of acme does) it is refused
    expect((await openReplyToken(theirs, secretOf)).workspaceId).toBe('acme-eu');
    await expect(openReplyToken(theirs, () => SECRET)).rejects.toThrow('not valid');
    // a token claiming acme, made with acme-eu's key
    await expect(openReplyToken(encodeReplyToken(conversation, keys['acme-eu']), secretOf)).rejects.toThrow('not valid');
    await expect(openReplyToken(encodeReplyToken({ ...conversation, workspaceId: 'nokey' }, SECRET), secretOf)).rejects.toThrow(
      'not valid',
    );
  });

  it('finds no token in addresses without one', () => {
    expect(tokenOfAddress('support@acme.test')).toBeUndefined();
    expect(tokenOfAddress('reply+@acme.test')).toBeUndefined();
    expect(tokenOfAddress('reply+abc@x@y')).toBeUndefined();
  });
});

function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}
