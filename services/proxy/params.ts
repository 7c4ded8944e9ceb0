// The cache's run-time parameters, named as Varnish's (varnishadm param.show / param.set): read at
// start from LAB_PROXY_PARAMS ("default_ttl=0,default_grace=5"), changed later by `lab cache param
// set NAME VALUE`. One set per proxy process, as in varnishd; vcl.ts, backend.ts and store.ts read it.

export interface Params {
  /** seconds an object without explicit freshness is fresh (Varnish's default_ttl) */
  default_ttl: number;
  /** seconds an expired object may be served while it is refreshed (default_grace) */
  default_grace: number;
  /** seconds an expired object is kept for revalidation and stale-if-error (default_keep) */
  default_keep: number;
  /** seconds to wait for the TCP connection to the app (connect_timeout) */
  connect_timeout: number;
  /** seconds to wait for the response head once the request is sent (first_byte_timeout) */
  first_byte_timeout: number;
  /** seconds the body may pause between two reads (between_bytes_timeout) */
  between_bytes_timeout: number;
  /** statuses stored without explicit freshness (RFC 9110 §15.1's heuristically cacheable, less 206) */
  cacheable_statuses: number[];
  /** bytes the store may hold before it evicts the least recently used objects (varnishd -s malloc,SIZE) */
  memory_limit: number;
}

export const DEFAULT_PARAMS: Readonly<Params> = {
  default_ttl: 120,
  default_grace: 10,
  default_keep: 3600,
  connect_timeout: 3.5,
  first_byte_timeout: 60,
  between_bytes_timeout: 60,
  cacheable_statuses: [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501],
  memory_limit: 256 * 2 ** 20,
};

/** The live parameters of this process. */
export const params: Params = {
  ...DEFAULT_PARAMS,
  cacheable_statuses: [...DEFAULT_PARAMS.cacheable_statuses],
};

export type ParamName = keyof Params;
const isName = (n: string): n is ParamName => Object.hasOwn(DEFAULT_PARAMS, n);

/** Parses and sets one parameter; a bad name or value throws and changes nothing. */
export function setParam(name: string, value: string, into: Params = params): Params[ParamName] {
  if (!isName(name))
    throw new Error(`no parameter "${name}" (known: ${Object.keys(DEFAULT_PARAMS).join(', ')})`);
  if (name === 'cacheable_statuses') {
    const list = value.split(/[\s,]+/).filter(Boolean);
    if (!list.length || !list.every((s) => /^[1-5]\d\d$/.test(s)))
      throw new Error(`cacheable_statuses needs status codes separated by commas (example: 200,301,404)`);
    into.cacheable_statuses = list.map(Number);
    return into.cacheable_statuses;
  }
  // a number, like varnishadm: seconds (fractions allowed) or bytes (k, M, G suffixes for memory_limit)
  const m = /^(\d+(?:\.\d+)?)([kKMG]?)$/.exec(value.trim());
  if (!m || (m[2] && name !== 'memory_limit'))
    throw new Error(
      `${name} needs a number${name === 'memory_limit' ? ' of bytes (k, M, G allowed)' : ' of seconds'}, not "${value}"`,
    );
  const n = Number(m[1]) * { '': 1, k: 1024, K: 1024, M: 2 ** 20, G: 2 ** 30 }[m[2] as '' | 'k'];
  if (name === 'memory_limit' && n < 4096) throw new Error('memory_limit must be at least 4096 bytes');
  if (name.endsWith('_timeout') && n <= 0) throw new Error(`${name} must be above 0`);
  into[name] = name === 'memory_limit' ? Math.floor(n) : n;
  return into[name];
}

/** LAB_PROXY_PARAMS="name=value,name=value" at start; a bad entry stops the proxy with its name. */
export function paramsFromEnv(text: string | undefined, into: Params = params): void {
  for (const pair of (text ?? '').split(/[;\s]+|,(?=[a-z_]+=)/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new Error(`LAB_PROXY_PARAMS: "${pair}" is not name=value`);
    try {
      setParam(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim(), into);
    } catch (err) {
      throw new Error(`LAB_PROXY_PARAMS: ${(err as Error).message}`);
    }
  }
}

/** param.show: each parameter, its value, its default and what it means. */
export function showParams(from: Params = params) {
  return (Object.keys(DEFAULT_PARAMS) as ParamName[]).map((name) => ({
    name,
    value: from[name],
    default: DEFAULT_PARAMS[name],
  }));
}
