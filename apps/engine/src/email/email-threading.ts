import { Inject, Injectable } from '@nestjs/common';
import { conversationsFromStream, customerStreamId, secretNamed, type SettingsState } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import {
  MAX_TOKEN_ID_BYTES,
  encodeReplyToken,
  openReplyToken,
  replyAddress,
  type EmailThreading,
  type RenderedMessage,
  type ReplyTarget,
} from '@journey/messaging';
import { workspaceIdError } from '../auth/api-keys';
import { SettingsService } from '../conversations/organisation.service';

/** How many Message-IDs an answer's References carries at most (the latest). */
const MAX_REFERENCES = 20;

/** The key a workspace's reply addresses are signed with: the secret `email.replySecret` names, else `email.inboundSecret`'s. */
export const replyKeyOf = (state: SettingsState): string | undefined =>
  secretNamed(state, state.settings.email?.replySecret ?? state.settings.email?.inboundSecret);

/**
 * Email threading from the workspace settings and the conversation: the reply address of an outgoing email (its
 * conversation's, or for a message outside one, the message's), the customer's Message-IDs it answers, and the
 * checking of a reply address's token when mail comes in.
 */
@Injectable()
export class EmailThreadingService {
  constructor(
    private readonly settings: SettingsService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** The threading headers of an outgoing email (EmailChannel's `threading`). */
  async threading(message: RenderedMessage): Promise<EmailThreading> {
    const state = await this.settings.load(message.workspaceId);
    const domain = state.settings.email?.replyDomain;
    const key = replyKeyOf(state);
    const thread: EmailThreading = {};
    if (domain) thread.messageIdDomain = domain;
    const target: ReplyTarget = {
      workspaceId: message.workspaceId,
      customerId: message.customerId,
      ...(message.conversationId !== undefined ? { conversationId: message.conversationId } : { messageId: message.messageId }),
    };
    const fits = [target.workspaceId, target.customerId, target.conversationId ?? target.messageId ?? ''].every(
      (id) => Buffer.byteLength(id) <= MAX_TOKEN_ID_BYTES,
    );
    if (domain && key && fits) thread.replyTo = replyAddress(encodeReplyToken(target, key), domain);
    if (message.conversationId !== undefined) {
      const events = await this.store.readStream(customerStreamId(message.workspaceId, message.customerId));
      const conversation = conversationsFromStream(events).get(message.conversationId);
      const ids = (conversation?.thread ?? [])
        .filter((t) => t.from === 'customer' && t.channel === 'email' && t.providerId?.startsWith('<'))
        .map((t) => t.providerId!);
      if (ids.length > 0) {
        thread.inReplyTo = ids[ids.length - 1];
        thread.references = ids.slice(-MAX_REFERENCES);
      }
    }
    return thread;
  }

  /**
   * The checked target of a reply token (ReplyTokenError: malformed, or not made with its workspace's key). A token
   * claiming a workspace that has no settings is refused (nothing is cached for it): forged tokens cost a read.
   */
  async open(token: string): Promise<ReplyTarget> {
    return openReplyToken(token, async (workspaceId) => {
      const state = await this.settingsIfAny(workspaceId);
      return state && replyKeyOf(state);
    });
  }

  /** A workspace's settings; undefined when it has none (the settings fold caches none then: ids from the network). */
  async settingsIfAny(workspaceId: string): Promise<SettingsState | undefined> {
    if (workspaceIdError(workspaceId) !== undefined) return undefined;
    const state = await this.settings.load(workspaceId);
    return state.revision === 0 ? undefined : state;
  }
}
