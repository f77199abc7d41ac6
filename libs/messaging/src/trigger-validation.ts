import type { TriggerValidationPorts } from '@journey/domain';
import { CHANNEL_NAMES } from './channel';
import { TemplateRenderer } from './templates';

const templates = new TemplateRenderer();

/**
 * What deploying a trigger (POST/PUT /v1/triggers, a draft backtest, `journey triggers validate`) checks beyond its
 * shape: its channels exist and its templates parse with the dispatcher's Liquid (no file tags), so nothing is refused
 * later per customer.
 */
export const TRIGGER_VALIDATION: TriggerValidationPorts = { channels: CHANNEL_NAMES, checkTemplate: (source) => templates.check(source) };
