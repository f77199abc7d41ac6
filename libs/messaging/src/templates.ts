import { Liquid, type Template } from 'liquidjs';
import type { Properties, Traits } from '@journey/domain';

/** What a template sees: `{{ customer.id }}`, `{{ customer.traits.name }}`, `{{ event.plan }}` (the causing event's properties). */
export interface TemplateScope {
  customer: { id: string; traits: Traits };
  event: Properties;
}

export interface MessageTemplate {
  subject?: string;
  body: string;
}

/** A template that does not parse, uses an unknown filter or a variable the scope lacks. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/**
 * Liquid templates, strict: a missing variable or an unknown filter is an error (the dispatcher suppresses the message
 * with reason `template-error` instead of sending "Hi ,"). `{{ x | default: "there" }}` and `{% if x %}` still work for
 * optional values. Parsed templates are cached by source (bounded, least recently used first out).
 */
export class TemplateRenderer {
  private readonly liquid = new Liquid({ strictVariables: true, strictFilters: true, lenientIf: true });
  private readonly cache = new Map<string, Template[]>();

  constructor(private readonly cacheSize = 1000) {}

  async render(template: MessageTemplate, scope: TemplateScope): Promise<MessageTemplate> {
    const body = await this.renderOne(template.body, scope, 'body');
    if (template.subject === undefined) return { body };
    return { subject: await this.renderOne(template.subject, scope, 'subject'), body };
  }

  private async renderOne(source: string, scope: TemplateScope, part: string): Promise<string> {
    try {
      return await this.liquid.render(this.parse(source), scope);
    } catch (error) {
      throw new TemplateError(`${part}: ${(error as Error).message}`);
    }
  }

  private parse(source: string): Template[] {
    let parsed = this.cache.get(source);
    if (parsed) {
      this.cache.delete(source);
    } else {
      parsed = this.liquid.parse(source);
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(source, parsed);
    return parsed;
  }

  /** For tests and metrics: how many parsed templates are cached. */
  get cachedTemplates(): number {
    return this.cache.size;
  }
}
