// A workshop's VCL: `lab cache vcl use services/proxy/vcl-examples/cache-with-cookies.mjs` (or LAB_PROXY_VCL=… at start).
// Each key replaces one named rule or one hook of the default VCL (services/proxy/vcl.ts); the rest stay.
export default {
  recvRules: {
    // builtin.vcl passes every request with a Cookie; here the analytics cookie alone does not count
    vcl_req_cookie(req) {
      const cookies = (req.headers.cookie ?? '').split(/;\s*/).filter((c) => c && !c.startsWith('_ga='));
      if (cookies.length) return { action: 'pass', why: 'the request carries a Cookie other than _ga' };
    },
  },
  // one object for /search?q=x&utm_source=y and /search?q=x: tracking parameters are not part of the key
  hash(req) {
    const u = new URL(req.url, 'http://x');
    for (const k of [...u.searchParams.keys()]) if (k.startsWith('utm_')) u.searchParams.delete(k);
    return `${req.host}${u.pathname}${u.search}`;
  },
};
