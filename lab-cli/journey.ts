// The 38 steps of the journey (docs/JOURNEY.md): what each scenario cites in its `journey:` list.
// `lab journey` shows which steps the scenarios cover.
export interface JourneyStep {
  step: number;
  what: string;
  /** the scenario docs/JOURNEY.md names for it */
  scenario: string;
}

export const JOURNEY: readonly JourneyStep[] = [
  { step: 1, what: 'text typed in the address bar: a URL, or words to search for', scenario: 'search' },
  {
    step: 2,
    what: 'URL parsed into scheme, user:password, host, port, path, query, fragment',
    scenario: 'press-enter',
  },
  { step: 3, what: 'non-ASCII host names become punycode (IDNA)', scenario: 'idn' },
  {
    step: 4,
    what: 'HSTS: preloaded list and Strict-Transport-Security learned from a response',
    scenario: 'hsts',
  },
  { step: 5, what: "browser's own caches: HTTP cache, DNS cache", scenario: 'cache-hit' },
  { step: 6, what: 'hosts file overrides DNS', scenario: 'hosts-override' },
  { step: 7, what: 'resolv.conf names the resolver to ask', scenario: 'press-enter' },
  { step: 8, what: 'recursive resolution: root → TLD → domain, referrals and glue', scenario: 'press-enter' },
  { step: 9, what: 'A and AAAA answers; CNAME chains followed', scenario: 'cname-chain' },
  { step: 10, what: 'TTL: answers cached and counted down, then asked again', scenario: 'dns-ttl' },
  { step: 11, what: 'negative answers (NXDOMAIN, NODATA) and their caching', scenario: 'nxdomain' },
  {
    step: 12,
    what: 'ARP / neighbour discovery before the first packet to a new address',
    scenario: 'press-enter (docker)',
  },
  {
    step: 13,
    what: 'a socket opens: ephemeral source port, destination port 80 or 443',
    scenario: 'press-enter',
  },
  { step: 14, what: 'TCP three-way handshake SYN, SYN-ACK, ACK', scenario: 'press-enter' },
  { step: 15, what: 'happy eyeballs: IPv6 and IPv4 raced, 250 ms head start', scenario: 'happy-eyeballs' },
  {
    step: 16,
    what: 'up to six connections per origin for HTTP/1.1, one for HTTP/2',
    scenario: 'http2-vs-http1',
  },
  { step: 17, what: 'a censor on the path injects forged RSTs', scenario: 'rst-middlebox' },
  { step: 18, what: 'plain HTTP redirected to HTTPS, then HSTS', scenario: 'hsts' },
  {
    step: 19,
    what: 'TLS handshake: ClientHello with SNI and ALPN, ServerHello, certificate chain, key exchange, Finished',
    scenario: 'press-enter',
  },
  {
    step: 20,
    what: 'the chain is checked: name, dates, signature up to a trusted root',
    scenario: 'bad-cert',
  },
  { step: 21, what: 'revocation: OCSP (or CRL) asked of the CA; stapled OCSP', scenario: 'revoked-cert' },
  {
    step: 22,
    what: 'the HTTP request: method, path, Host, headers, Referer (one r)',
    scenario: 'press-enter',
  },
  { step: 23, what: 'HTTP/2 multiplexing and HTTP/1.1 keep-alive', scenario: 'http2-vs-http1' },
  { step: 24, what: 'reverse-proxy cache: MISS then HIT, Age, Vary, purge, grace', scenario: 'cache-hit' },
  {
    step: 25,
    what: 'web server: virtual host by Host header, front-controller rewrite, access log',
    scenario: 'kernel-events',
  },
  { step: 26, what: 'request object built from the raw request (no globals)', scenario: 'kernel-events' },
  { step: 27, what: 'kernel.request listeners: IP blocklist answers early', scenario: 'ip-block' },
  { step: 28, what: 'router listener sets the controller on the request', scenario: 'kernel-events' },
  {
    step: 29,
    what: 'controller resolver; kernel.controller swaps it for API versioning',
    scenario: 'api-versioning',
  },
  {
    step: 30,
    what: 'argument resolver turns an id into a user loaded from the database',
    scenario: 'kernel-events',
  },
  {
    step: 31,
    what: 'controller runs; kernel.view turns a non-Response into a Response',
    scenario: 'kernel-events',
  },
  {
    step: 32,
    what: 'kernel.response listeners add headers (cache, cookies, debug token)',
    scenario: 'kernel-events',
  },
  { step: 33, what: 'status codes 2xx/3xx/4xx/5xx, exception → error page', scenario: 'app-errors' },
  { step: 34, what: 'the response travels back through the proxy, which stores it', scenario: 'cache-hit' },
  {
    step: 35,
    what: 'the browser parses HTML and fetches subresources (CSS, JS, images)',
    scenario: 'press-enter',
  },
  {
    step: 36,
    what: 'connections close: FIN, ACK, FIN, ACK (or keep-alive idle timeout)',
    scenario: 'press-enter',
  },
  { step: 37, what: 'the page is "rendered": what would be painted', scenario: 'press-enter' },
  { step: 38, what: 'a lost packet is retransmitted', scenario: 'packet-loss' },
];
