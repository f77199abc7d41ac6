import { evolveSettings, initialSettings, secretNamed, workspaceStreamId, type SettingsState } from '@journey/domain';
import { StreamFold, type EventStore } from '@journey/event-store';

/**
 * A workspace's settings and secrets for the dispatcher's channels (which run without Nest services, maybe in the worker
 * thread): the `workspace-<ws>` stream folded with `evolveSettings` (a StreamFold), so a changed secret is used by the
 * next message.
 */
export class WorkspaceSettingsReader extends StreamFold<SettingsState> {
  constructor(store: Pick<EventStore, 'readStream'>) {
    super(store, workspaceStreamId, initialSettings, evolveSettings);
  }

  /** The value of the secret the Slack setting `field` names, or why there is none. */
  async slackSecret(workspaceId: string, field: 'webhookUrl' | 'signingSecret'): Promise<{ value: string } | { missing: string }> {
    const state = await this.load(workspaceId);
    const name = state.settings.slack?.[field];
    if (name === undefined) return { missing: `the workspace "${workspaceId}" has no setting slack.${field}` };
    const value = secretNamed(state, name);
    if (value === undefined) return { missing: `slack.${field} names the secret "${name}", which workspace "${workspaceId}" has not set` };
    return { value };
  }
}
