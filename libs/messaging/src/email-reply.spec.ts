import { htmlToText, messageIdsOf, normaliseMessageId, stripReply } from './email-reply';

const REPLY = [
  'Hi Sam,',
  '',
  'Yes, the import works now. Could you also switch us to the annual plan?',
  '',
  'Best regards,',
  'Ann',
  '--',
  'Ann Smith | Head of Ops | Example Corp',
  '+1 555 0100',
  '',
  'On Tue, Dec 1, 2026 at 10:02 AM Acme Support <reply+abc@reply.acme.test> wrote:',
  '> Hi Ann,',
  '>',
  '> We fixed the import. Does it work for you now?',
  '>',
  '> Sam',
].join('\r\n');

describe('stripReply', () => {
  it('keeps what the customer wrote, without the quoted history and the signature', () => {
    const body = stripReply(REPLY);
    expect(body).toContain('Yes, the import works now. Could you also switch us to the annual plan?');
    expect(body).not.toContain('We fixed the import');
    expect(body).not.toContain('wrote:');
    expect(body).not.toContain('Head of Ops');
    expect(body).not.toContain('555 0100');
  });

  it('drops "Sent from my iPhone"', () => {
    expect(stripReply('Thanks, will do.\n\nSent from my iPhone')).toBe('Thanks, will do.');
  });

  it('never gives an empty body for a mail that has text: only a quote keeps the first non-empty part', () => {
    const onlyQuote = 'On Tue, Dec 1, 2026 at 10:02 AM Acme <a@acme.test> wrote:\n> Does it work?\n';
    expect(stripReply(onlyQuote)).not.toBe('');
    expect(stripReply('   \n\n')).toBe('');
  });

  it('cuts a body over the conversation limit', () => {
    expect(stripReply('x'.repeat(30_000)).length).toBe(20_000);
  });
});

describe('email helpers', () => {
  it('turns HTML into text without its quoted blocks', () => {
    expect(htmlToText('<div>Works &amp; thanks!<br>Ann</div><blockquote>old stuff</blockquote>')).toBe('Works & thanks!\nAnn');
  });

  it('reads Message-IDs from headers', () => {
    expect(normaliseMessageId(' abc@x ')).toBe('<abc@x>');
    expect(normaliseMessageId('<abc@x>')).toBe('<abc@x>');
    expect(normaliseMessageId('')).toBeUndefined();
    expect(messageIdsOf('<a@x> <b@y>\r\n <c@z>')).toEqual(['<a@x>', '<b@y>', '<c@z>']);
    expect(messageIdsOf(['<a@x>', 'b@y'])).toEqual(['<a@x>', '<b@y>']);
    expect(messageIdsOf(undefined)).toEqual([]);
  });
});
