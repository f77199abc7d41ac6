import type { TriggerValidationPorts } from '@journey/domain';
import { CHANNEL_NAMES } from './channel';
import { TemplateRenderer } from './templates';

const templates = new TemplateRenderer();

/**
 * What deploying a trigger (POST/PUT /v1/triggers, a draft backtest, `journey triggers validate`) checks beyond its
 * shape: its channels exist and its templates parse with the dispatcher's Liquid (no file tags, no unknown filter), so
 * nothing is refused later per customer for its source. The templates: a send's body and subject, a webhook step's URL,
 * header values and body, and a reply step's body (rendered by the run decider with `replyRenderer`, the same Liquid).
 */
export const TRIGGER_VALIDATION: TriggerValidationPorts = { channels: CHANNEL_NAMES, checkTemplate: (source) => templates.check(source) };
