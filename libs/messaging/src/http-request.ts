import { DeliveryError, type Channel, type HttpRequestSpec, type RenderedMessage, type RenderInput, type SendContext } from './channel';
import { httpCall } from './http-call';
import type { MessageTemplate, TemplateScope } from './templates';
import type { WorkspaceSettingsReader } from './workspace-settings';

export interface HttpRequestChannelOptions {
  settings: WorkspaceSettingsReader;
  timeoutMs?: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/**
 * A trigger's templated `webhook` step (MessageScheduled { channel: 'http', request: { url, method, headers },
 * template: { body } }): the URL, every header value and the body are Liquid templates, rendered with the usual scope
 * (`customer`, `event`) plus `secrets`, the workspace's named secrets (`{{ secrets.crm_token }}`), which exist only
 * here, at send time: they are in no stored event (the rendered request is never kept). A secret that is not set is a
 * template error (suppressed, `template-error`, naming it). Only http(s) URLs are called: one that renders to another
 * scheme fails the message. Redirects are not followed (a 3xx fails it), so a secret is never sent to another host.
 * `Idempotency-Key` is the messageId unless the step sets it; the answer is classified as the fixed webhook's: 2xx
 * delivered, 408, 429, 5xx and network errors retried, other 4xx failed.
 */
export class HttpRequestChannel implements Channel {
  readonly name = 'http';
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpRequestChannelOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async render(
    template: MessageTemplate,
    scope: TemplateScope,
    input: RenderInput,
  ): Promise<MessageTemplate & { request?: HttpRequestSpec }> {
    const state = await this.options.settings.load(input.workspaceId);
    const withSecrets = { ...scope, secrets: Object.fromEntries(state.secrets) } as TemplateScope;
    const render = async (source: string, part: string) => {
      const { body } = await input.templates.render({ body: source }, withSecrets).catch((error: Error) => {
        throw Object.assign(error, { message: error.message.replace(/^body:/, `${part}:`) });
      });
      return body;
    };
    const body = template.body === '' ? '' : await render(template.body, 'body');
    if (!input.request) return { body };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.request.headers ?? {})) headers[name] = await render(value, `headers.${name}`);
    return { body, request: { url: (await render(input.request.url, 'url')).trim(), method: input.request.method, headers } };
  }

  async send(message: RenderedMessage, ctx: SendContext): Promise<{ detail?: string }> {
    const request = message.request;
    if (!request) throw new DeliveryError('http: the message has no request (url, method, headers)', false);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new DeliveryError(`http: the URL does not render to a valid URL`, false);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new DeliveryError(
        `http: only http and https URLs are called; this one renders to scheme "${url.protocol.slice(0, -1)}"`,
        false,
      );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!HEADER_NAME.test(name)) throw new DeliveryError(`http: header name ${JSON.stringify(name.slice(0, 64))} is not valid`, false);
      // the value is not repeated: it may hold a secret
      if (/[\r\n\0]/.test(value)) throw new DeliveryError(`http: header ${name} renders to a value with a line break or NUL`, false);
      headers[name.toLowerCase()] = value;
    }
    headers['idempotency-key'] ??= ctx.idempotencyKey;
    const method = request.method;
    const hasBody = method !== 'GET' && message.body !== '';
    if (hasBody && headers['content-type'] === undefined)
      headers['content-type'] = isJson(message.body) ? 'application/json' : 'text/plain; charset=utf-8';
    return httpCall(
      url.toString(),
      { method, headers, body: hasBody ? message.body : undefined, redirect: 'manual' },
      {
        what: `http ${method} ${url.origin}`,
        timeoutMs: this.timeoutMs,
        signal: ctx.signal,
      },
    );
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
