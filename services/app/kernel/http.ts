// Request and Response, built from the raw request with no globals (JOURNEY 26).

export class Request {
  /** what the routing and resolving steps learn: _route, _controller, route placeholders */
  readonly attributes = new Map<string, unknown>();
  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: URLSearchParams,
    /** lower-case names */
    readonly headers: Record<string, string>,
    readonly cookies: Record<string, string>,
    readonly clientIp: string,
    readonly host: string,
    readonly body = '',
  ) {}

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  private summarised?: Record<string, unknown>;

  /** what the profiler and the kernel.request event show (built once: both ask) */
  summary(): Record<string, unknown> {
    this.summarised ??= {
      method: this.method,
      path: this.path,
      query: Object.fromEntries(this.query),
      host: this.host,
      clientIp: this.clientIp,
      headers: this.headers,
      cookies: Object.keys(this.cookies),
    };
    return this.summarised;
  }
}

export class Response {
  readonly headers = new Map<string, string>();
  readonly cookies: string[] = [];
  constructor(
    public body: string | Buffer = '',
    public status = 200,
    headers: Record<string, string> = {},
  ) {
    for (const [k, v] of Object.entries(headers)) this.headers.set(k.toLowerCase(), v);
  }
}

export class HttpException extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeCookieValue(part.slice(i + 1).trim());
  }
  return out;
}

/** A cookie value as sent; percent-decoded when that is well-formed (RFC 6265 §4.1.1 leaves it opaque). */
function decodeCookieValue(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
