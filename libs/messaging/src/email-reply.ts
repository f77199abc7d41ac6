/**
 * What a customer wrote in an email reply, without the quoted history and the signature: `email-reply-parser`
 * (crisp-oss, MIT; the Node port of GitHub's EmailReplyParser, maintained, used on about a million mails a day by
 * Crisp; it knows the "On <date>, <name> wrote:" headers of about ten languages, `>` quotes, `--` signatures and
 * "Sent from my iPhone"). Pure.
 */
import EmailReplyParser from 'email-reply-parser';
import { MAX_BODY } from '@journey/domain';

const parser = new EmailReplyParser();

/**
 * The reply part of a plain-text mail body. When stripping leaves nothing (a mail that is only a quote, or only a
 * signature), the first non-empty part of the mail is kept instead, so a message is never stored empty; a mail with
 * no text at all gives ''. Bodies longer than the conversation's limit (MAX_BODY) are cut there.
 */
export function stripReply(text: string): string {
  const normalised = text.replace(/\r\n?/g, '\n');
  let body = '';
  try {
    const email = parser.read(normalised);
    body = email.getVisibleText().trim();
    if (body === '')
      body =
        email
          .getFragments()
          .map((f) => f.getContent().trim())
          .find((c) => c !== '') ?? '';
  } catch {
    // a mail the parser cannot read is kept whole
  }
  if (body === '') body = normalised.trim();
  return body.length > MAX_BODY ? `${body.slice(0, MAX_BODY - 1)}…` : body;
}

/** A rough plain text of an HTML body, for mails without a text part: tags dropped, common entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<blockquote[^>]*>[\s\S]*?<\/blockquote>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6])>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** An email Message-ID in its `<id@host>` form (In-Reply-To and References use it); undefined when blank. */
export function normaliseMessageId(id: string | undefined): string | undefined {
  const v = id?.trim();
  if (!v) return undefined;
  return v.startsWith('<') && v.endsWith('>') ? v : `<${v.replace(/^<|>$/g, '')}>`;
}

/** The Message-IDs of a References (or In-Reply-To) header value. */
export function messageIdsOf(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((v) => v.match(/<[^<>\s]+>/g) ?? (v.trim() ? [normaliseMessageId(v)!] : []));
}
