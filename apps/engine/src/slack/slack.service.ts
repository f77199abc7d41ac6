import { HttpException, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { deterministicId, secretNamed, type ConversationCommand } from '@journey/domain';
import { REPLY_BLOCK_PREFIX, handoffRefOf, parseConversationRef, verifySlackSignature, type ConversationRef } from '@journey/messaging';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService, SettingsService } from '../conversations/organisation.service';
import { SlackThreads } from './slack-threads';

/** What Slack is answered (always 200 once signed): for an action, a text shown to the person who clicked. */
export interface SlackAnswer {
  response_type?: 'ephemeral';
  replace_original?: false;
  text?: string;
  challenge?: string;
}

/** The request as the controller hands it on: the raw bytes and Slack's headers. */
export interface SlackRequest {
  rawBody: Buffer;
  timestamp?: string;
  signature?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** How many times a Slack action is decided again when the conversation changed meanwhile. */
const RETRIES = 5;

/**
 * Slack's requests to a workspace: verified (signature v0 with the workspace's signing secret, five-minute window),
 * then the "Take it" button (assigns the conversation to the member whose `slackUserId` clicked), the reply input and
 * replies in a handoff post's thread (the member's AgentReplied). Every change goes through ConversationsService, its
 * cause an id derived from Slack's own (the event_id, the action's user and action_ts), so a retried or duplicated
 * delivery is recorded once. A person Slack names that is no member, or an action the conversation refuses, is
 * answered 200 with a text saying why (Slack shows nothing else), logged, and changes nothing.
 */
@Injectable()
export class SlackService {
  private readonly logger = new Logger('slack');

  constructor(
    private readonly conversations: ConversationsService,
    private readonly organisation: OrganisationService,
    private readonly settings: SettingsService,
    private readonly threads: SlackThreads,
  ) {}

  /** 401 unless the request is signed with the workspace's signing secret within the window. */
  async verify(workspaceId: string, request: SlackRequest, now = new Date()): Promise<void> {
    // anyone may name any workspace here before the signature is checked: the settings fold keeps none without a stream
    if (workspaceId.length > 256) throw new UnauthorizedException('slack is not configured for this workspace');
    const state = await this.settings.load(workspaceId);
    const signingSecret = secretNamed(state, state.settings.slack?.signingSecret);
    if (signingSecret === undefined)
      throw new UnauthorizedException('slack is not configured for this workspace (no setting slack.signingSecret naming a set secret)');
    const refused = verifySlackSignature({
      signingSecret,
      timestamp: request.timestamp,
      signature: request.signature,
      rawBody: request.rawBody,
      now,
    });
    if (refused) {
      this.logger.warn(`refused a Slack request for workspace "${workspaceId}": ${refused}`);
      throw new UnauthorizedException(refused);
    }
  }

  /** An interactivity payload (`payload=<json>`, form-encoded): block_actions `take`, `reply` and `open`. */
  async interactivity(workspaceId: string, payload: Record<string, unknown>): Promise<SlackAnswer> {
    if (payload.type !== 'block_actions') return {};
    const user = isRecord(payload.user) ? str(payload.user.id) : undefined;
    const actions = Array.isArray(payload.actions) ? payload.actions.filter(isRecord) : [];
    const answers: string[] = [];
    for (const action of actions) {
      const actionId = str(action.action_id);
      const blockId = str(action.block_id) ?? '';
      const ref =
        actionId === 'reply'
          ? blockId.startsWith(REPLY_BLOCK_PREFIX)
            ? parseConversationRef(blockId.slice(REPLY_BLOCK_PREFIX.length))
            : undefined
          : parseConversationRef(action.value);
      if (actionId !== 'take' && actionId !== 'reply' && actionId !== 'open') continue;
      const causeId = deterministicId('slack-action', workspaceId, user ?? '', str(action.action_ts) ?? '', actionId, blockId);
      if (actionId === 'open') answers.push(await this.open(workspaceId, ref));
      else if (actionId === 'take')
        answers.push(
          await this.asMember(workspaceId, user, ref, causeId, 'take it', (memberId) => ({
            type: 'Assign',
            assignee: memberId,
            reason: 'manual',
            by: memberId,
          })),
        );
      else {
        const body = str(action.value);
        if (!body) continue;
        answers.push(await this.asMember(workspaceId, user, ref, causeId, 'reply', (memberId) => ({ type: 'Reply', body, by: memberId })));
      }
    }
    const text = answers.filter(Boolean).join('\n');
    return text ? { response_type: 'ephemeral', replace_original: false, text } : {};
  }

  /** An Events API request: the URL check, a handoff post's own message (links its thread), a reply in that thread. */
  async event(workspaceId: string, body: Record<string, unknown>): Promise<SlackAnswer> {
    if (body.type === 'url_verification') return { challenge: str(body.challenge) ?? '' };
    if (body.type !== 'event_callback' || !isRecord(body.event)) return {};
    const event = body.event;
    const eventId = str(body.event_id);
    const channel = str(event.channel);
    if (event.type !== 'message' || !channel) return {};
    const ts = str(event.ts);
    const threadTs = str(event.thread_ts);
    const ref = handoffRefOf(event.blocks);
    if (ref && ts && (str(event.bot_id) || event.subtype === 'bot_message')) {
      // the app's own handoff post, as Slack delivers it: its thread is the conversation's
      if (ref.workspaceId !== workspaceId) return {};
      await this.threads.link(workspaceId, channel, ts, ref);
      return {};
    }
    const reply = str(event.text);
    const user = str(event.user);
    const ordinary = event.subtype === undefined || event.subtype === 'thread_broadcast';
    if (!threadTs || threadTs === ts || !reply || !user || !ordinary || str(event.bot_id) || !eventId) return {};
    const thread = await this.threads.find(workspaceId, channel, threadTs);
    if (!thread) return {}; // a thread that is no handoff's
    const causeId = deterministicId('slack-event', workspaceId, eventId);
    const text = await this.asMember(workspaceId, user, thread, causeId, 'reply', (memberId) => ({
      type: 'Reply',
      body: reply,
      by: memberId,
    }));
    return text ? { text } : {};
  }

  /**
   * Runs the command as the member Slack names, once: a cause already on the customer's stream is a duplicate. The
   * command is decided on the version checked (If-Match), so two deliveries at once cannot both pass the check.
   * Returns the text for the person (empty when done).
   */
  private async asMember(
    workspaceId: string,
    slackUserId: string | undefined,
    ref: ConversationRef | undefined,
    causeId: string,
    what: string,
    command: (memberId: string) => ConversationCommand,
  ): Promise<string> {
    if (!ref || ref.workspaceId !== workspaceId) {
      this.logger.warn(`a Slack action for workspace "${workspaceId}" names no conversation of it`);
      return `Could not ${what}: this message names no conversation of this workspace.`;
    }
    const member =
      slackUserId === undefined
        ? undefined
        : [...(await this.organisation.load(workspaceId)).members.values()].find((m) => m.slackUserId === slackUserId);
    if (!member) {
      this.logger.warn(`Slack user "${slackUserId ?? ''}" is no member of workspace "${workspaceId}": nothing changed`);
      return `Could not ${what}: your Slack user (${slackUserId ?? 'unknown'}) is not linked to a member of this workspace. Ask an admin to set your slackUserId.`;
    }
    for (let attempt = 1; ; attempt++) {
      const { events, conversations } = await this.conversations.load(workspaceId, ref.customerId);
      if (events.some((e) => e.metadata.causationId === causeId)) return ''; // delivered before: recorded once
      const conversation = conversations.get(ref.conversationId);
      try {
        await this.conversations.act(workspaceId, ref.customerId, ref.conversationId, command(member.memberId), {
          source: 'slack',
          ifMatch: conversation?.version ?? 0,
          cause: { id: causeId, metadata: {} },
        });
        return '';
      } catch (error) {
        if (!(error instanceof HttpException)) throw error;
        const status = error.getStatus();
        // another writer came first: check for a duplicate again and decide on the new version
        if ((status === 412 || (status === 409 && /concurrently/.test(error.message))) && attempt < RETRIES) continue;
        this.logger.warn(`Slack: ${member.memberId} could not ${what} in conversation "${ref.conversationId}": ${error.message}`);
        return `Could not ${what}: ${error.message}`;
      }
    }
  }

  /** The "Open" button: the conversation so far, for the person who clicked. */
  private async open(workspaceId: string, ref: ConversationRef | undefined): Promise<string> {
    if (!ref || ref.workspaceId !== workspaceId) return 'This message names no conversation of this workspace.';
    const conversation = (await this.conversations.load(workspaceId, ref.customerId)).conversations.get(ref.conversationId);
    if (!conversation?.exists) return `Conversation "${ref.conversationId}" does not exist.`;
    const head = `Conversation with ${ref.customerId}: ${conversation.status}${conversation.assignee ? `, assigned to ${conversation.assignee}` : ', unassigned'}${conversation.team ? `, team ${conversation.team}` : ''}, priority ${conversation.priority}`;
    const lines = conversation.thread
      .filter((t) => t.from !== 'note')
      .slice(-5)
      .map((t) => `${t.from === 'customer' ? 'Customer' : (t.by ?? 'Automation')}: ${t.body.slice(0, 300)}`);
    return [head, ...lines].join('\n');
  }
}
