import { Context, Liquid, Tag, toPromise, toValue, toValueSync, type Emitter, type FS, type Template } from 'liquidjs';
import type { Properties, ReplyRenderer, Traits } from '@journey/domain';

/** What a template sees: `{{ customer.id }}`, `{{ customer.traits.name }}`, `{{ event.plan }}` (the causing event's properties). */
export interface TemplateScope {
  customer: { id: string; traits: Traits };
  event: Properties;
}

export interface MessageTemplate {
  subject?: string;
  body: string;
}

/** A template that does not parse, uses an unknown filter, a variable the scope lacks, a file, or goes over a limit. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface TemplateLimits {
  /** Parsed templates kept, least recently used first out. */
  cacheSize: number;
  /** Time one part (subject or body) may take to render, in ms. */
  renderLimitMs: number;
  /** Characters one part may render to. */
  maxOutputChars: number;
  /** liquidjs allocation budget per render (range sizes, array and string filters). */
  memoryLimit: number;
  /** Characters of template source parsed at once. */
  parseLimit: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  cacheSize: 1000,
  renderLimitMs: 500,
  maxOutputChars: 256 * 1024,
  memoryLimit: 10_000_000,
  parseLimit: 1_000_000,
};

/** Templates never read files: the tags that would (`include`, `render`, `layout`) are refused when the template is parsed. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

/** And should one slip through, the file system liquidjs is given has no files. */
const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => Promise.reject(new Error(`templates cannot read files ("${file}")`)),
  readFileSync: (file) => {
    throw new Error(`templates cannot read files ("${file}")`);
  },
  resolve: (_dir, file) => file,
};

/**
 * Liquid templates, strict: a missing variable or an unknown filter is an error (the dispatcher suppresses the message
 * with reason `template-error` instead of sending "Hi ,"). `{{ x | default: "there" }}` and `{% if x %}` still work for
 * optional values. Templates are authored through the API (a csm key), so they are untrusted: no file access at all,
 * own properties only (no `constructor` or prototype), and each render is bounded in time, allocations and output
 * size; going over a bound is a TemplateError too. Parsed templates are cached by source (bounded, LRU).
 */
export class TemplateRenderer {
  private readonly liquid: Liquid;
  private readonly limits: TemplateLimits;
  private readonly cache = new Map<string, Template[]>();

  constructor(limits: Partial<TemplateLimits> = {}) {
    this.limits = { ...DEFAULT_TEMPLATE_LIMITS, ...limits };
    const { renderLimitMs, memoryLimit, parseLimit } = this.limits;
    this.liquid = new Liquid({
      strictVariables: true,
      strictFilters: true,
      lenientIf: true,
      ownPropertyOnly: true,
      fs: NO_FILES,
      root: [],
      partials: [],
      layouts: [],
      relativeReference: false,
      dynamicPartials: false,
      renderLimit: renderLimitMs,
      memoryLimit,
      parseLimit,
    });
    for (const name of FILE_TAGS) this.liquid.registerTag(name, refusedTag(name));
  }

  async render(template: MessageTemplate, scope: TemplateScope): Promise<MessageTemplate> {
    const body = await this.renderOne(template.body, scope, 'body');
    if (template.subject === undefined) return { body };
    return { subject: await this.renderOne(template.subject, scope, 'subject'), body };
  }

  /**
   * The same render, synchronous (for the pure trigger run decider: a `reply` step's body), with the same bounds: the
   * time and allocation limits count per part from a fresh context, the output is bounded as it is written, and file
   * tags are refused. Throws a TemplateError.
   */
  renderSync(template: MessageTemplate, scope: TemplateScope): MessageTemplate {
    const body = this.renderOneSync(template.body, scope, 'body');
    if (template.subject === undefined) return { body };
    return { subject: this.renderOneSync(template.subject, scope, 'subject'), body };
  }

  /**
   * Why a template source is refused before any customer sees it (it does not parse, uses a tag that reads files,
   * is longer than the parse limit), or undefined when it parses: what deploying a trigger checks.
   */
  check(source: string): string | undefined {
    try {
      this.parse(source);
      return undefined;
    } catch (error) {
      return (error as Error).message.split('\n')[0];
    }
  }

  private async renderOne(source: string, scope: TemplateScope, part: string): Promise<string> {
    try {
      const emitter = new BoundedEmitter(this.limits.maxOutputChars);
      // A fresh context per render: the time and allocation limits count from here.
      const ctx = new Context(scope, this.liquid.options, { sync: false }, { liquid: this.liquid });
      await toPromise(this.liquid.renderer.renderTemplates(this.parse(source), ctx, emitter));
      return emitter.buffer;
    } catch (error) {
      throw new TemplateError(`${part}: ${(error as Error).message}`);
    }
  }

  private renderOneSync(source: string, scope: TemplateScope, part: string): string {
    try {
      const emitter = new BoundedEmitter(this.limits.maxOutputChars);
      const ctx = new Context(scope, this.liquid.options, { sync: true }, { liquid: this.liquid });
      toValueSync(this.liquid.renderer.renderTemplates(this.parse(source), ctx, emitter));
      return emitter.buffer;
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
      if (this.cache.size >= this.limits.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(source, parsed);
    return parsed;
  }

  /** For tests and metrics: how many parsed templates are cached. */
  get cachedTemplates(): number {
    return this.cache.size;
  }
}

function refusedTag(name: string): Parameters<Liquid['registerTag']>[1] {
  return class extends Tag {
    constructor(...args: ConstructorParameters<typeof Tag>) {
      super(...args);
      throw new Error(`the "${name}" tag is not allowed: templates cannot read files`);
    }
    render(): void {}
  };
}

/** Collects the output and stops the render once it is longer than `max` characters. */
class BoundedEmitter implements Emitter {
  buffer = '';

  constructor(private readonly max: number) {}

  write(html: unknown): void {
    const text = stringify(html);
    if (this.buffer.length + text.length > this.max) throw new Error(`output limit exceeded (more than ${this.max} characters)`);
    this.buffer += text;
  }
}

/** How liquidjs writes a value out: drops by their value, nothing for nil, arrays joined. */
function stringify(value: unknown): string {
  const v = toValue(value);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(stringify).join('');
  return String(v);
}

/**
 * The `reply` step's renderer for the trigger run decider (`RunContext.renderReply`): a reply body rendered as a send's
 * body is (the same strict Liquid, scope and bounds), synchronously; a TemplateError is the answer's `error`.
 */
export function replyRenderer(templates: TemplateRenderer = new TemplateRenderer()): ReplyRenderer {
  return (body, scope) => {
    try {
      return { text: templates.renderSync({ body }, scope).body };
    } catch (error) {
      if (error instanceof TemplateError) return { error: error.message };
      throw error;
    }
  };
}
