// What the censor reads in a connection's first client bytes: a TLS ClientHello's server_name
// (RFC 8446 §4.1.2, RFC 6066 §3) or an HTTP request's target and Host (RFC 9112 §3). Pure: bytes in,
// a verdict out — "need more" while the message is incomplete.

export type Inspection =
  | { kind: 'more' }
  | { kind: 'tls'; sni?: string }
  | { kind: 'http'; method: string; target: string; host?: string }
  | { kind: 'opaque' };

/** The censor reads at most this much of a connection, as real DPI boxes give up early. */
export const INSPECT_LIMIT = 16_384;

const METHODS = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) /;

export function inspectClientBytes(b: Buffer): Inspection {
  if (b.length === 0) return { kind: 'more' };
  if (b[0] === 0x16) return inspectTls(b);
  const head = b.subarray(0, 8).toString('latin1');
  if (METHODS.test(head) || /^[A-Z]{1,7}$/.test(head)) return inspectHttp(b);
  return { kind: 'opaque' };
}

/** TLS records of type handshake (22) concatenated until the ClientHello is whole. */
function inspectTls(b: Buffer): Inspection {
  const hs: Buffer[] = [];
  let at = 0;
  let have = 0;
  let need = -1;
  while (at + 5 <= b.length) {
    if (b[at] !== 0x16) return { kind: 'opaque' };
    const len = b.readUInt16BE(at + 3);
    if (len === 0 || len > 16_384 + 256) return { kind: 'opaque' };
    const body = b.subarray(at + 5, Math.min(b.length, at + 5 + len));
    hs.push(body);
    have += body.length;
    if (need < 0 && have >= 4) {
      const first = Buffer.concat(hs);
      if (first[0] !== 1) return { kind: 'opaque' }; // not a ClientHello
      need = 4 + first.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need)
      return { kind: 'tls', sni: serverName(Buffer.concat(hs).subarray(4, need)) };
    if (at + 5 + len > b.length) break;
    at += 5 + len;
  }
  return b.length >= INSPECT_LIMIT ? { kind: 'opaque' } : { kind: 'more' };
}

/** The host_name in the server_name extension of a ClientHello body, or undefined. */
export function serverName(ch: Buffer): string | undefined {
  try {
    let p = 2 + 32; // legacy_version, random
    p += 1 + ch[p]; // legacy_session_id
    p += 2 + ch.readUInt16BE(p); // cipher_suites
    p += 1 + ch[p]; // legacy_compression_methods
    if (p + 2 > ch.length) return undefined;
    const extEnd = Math.min(ch.length, p + 2 + ch.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = ch.readUInt16BE(p);
      const len = ch.readUInt16BE(p + 2);
      const ext = ch.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      if (type !== 0) continue;
      // ServerNameList: length, then {name_type, length, name}
      let q = 2;
      while (q + 3 <= ext.length) {
        const nameType = ext[q];
        const nlen = ext.readUInt16BE(q + 1);
        if (nameType === 0)
          return ext
            .subarray(q + 3, q + 3 + nlen)
            .toString('latin1')
            .toLowerCase();
        q += 3 + nlen;
      }
    }
  } catch {
    // a RangeError from a lying length: no name
  }
  return undefined;
}

function inspectHttp(b: Buffer): Inspection {
  const text = b.subarray(0, INSPECT_LIMIT).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return b.length >= INSPECT_LIMIT ? { kind: 'opaque' } : { kind: 'more' };
  const [requestLine, ...fields] = text.slice(0, end).split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/\d\.\d$/.exec(requestLine);
  if (!m) return { kind: 'opaque' };
  const hostLine = fields.find((f) => /^host:/i.test(f));
  const host = hostLine?.slice(5).trim().replace(/:\d+$/, '').toLowerCase();
  return { kind: 'http', method: m[1], target: m[2], host: host || undefined };
}
