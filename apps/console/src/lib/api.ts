/**
 * The console's one way to the engine's HTTP API: the key as a bearer token, JSON (or YAML) in and out, and every
 * failure turned into an ApiError whose message is the engine's own words (its 4xx bodies name what is wrong).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The parsed error body (for instance a trigger's validation `errors` with their lines). */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | null | readonly string[]>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body; a string is sent as is with `contentType` (YAML trigger documents). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** `path?query`, leaving out empty values; arrays repeat the parameter. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) params.append(name, v);
    else params.set(name, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

/** The words of an error body: Nest's `message` (a string or a list), else `error`, else the status. */
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown; errors?: unknown };
    if (Array.isArray(b.message) && b.message.length) return b.message.map(String).join('; ');
    if (typeof b.message === 'string' && b.message) return b.message;
    if (typeof b.error === 'string' && b.error) return b.error;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  if (status === 0) return 'the engine cannot be reached (is it running?)';
  return `the engine answered ${status}`;
}

export class Api {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: () => void = () => {},
    private readonly base = '',
  ) {}

  get<T = unknown>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }
  post<T = unknown>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = unknown>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body });
  }
  patch<T = unknown>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** Headers for a request made outside this class (the live streams). */
  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.key}` };
  }

  url(path: string, query?: Query): string {
    return this.base + withQuery(path, query);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(), ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      if (typeof options.body === 'string' && options.contentType) body = options.body;
      else body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), { method, headers, body, signal: options.signal });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, errorMessage(0, undefined));
    }
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthorized();
      throw new ApiError(res.status, errorMessage(res.status, parsed), parsed);
    }
    return parsed as T;
  }
}
