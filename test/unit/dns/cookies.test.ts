// DNS cookies (RFC 7873 §5.2, server cookies in RFC 9018's layout).
import { describe, expect, it } from 'vitest';
import { CookieJar } from '../../../services/common/dns/cookies.js';

const client = Buffer.from('0102030405060708', 'hex');
const NOW = 1_800_000_000;

describe('DNS cookies', () => {
  const jar = new CookieJar(Buffer.alloc(16, 9));

  it('no COOKIE option is answered as ever (RFC 7873 §5.2.1)', () => {
    expect(jar.check(undefined, '127.0.0.1', NOW)).toEqual({ kind: 'none' });
  });

  it('a client cookie alone gets a 16-byte server cookie: version 1, reserved, timestamp, hash (RFC 9018 §4.2)', () => {
    expect(jar.check(client, '127.0.0.1', NOW).kind).toBe('client-only');
    const opt = jar.option(client, '127.0.0.1', NOW);
    expect(opt.length).toBe(24);
    expect(opt.subarray(0, 8)).toEqual(client);
    expect([...opt.subarray(8, 12)]).toEqual([1, 0, 0, 0]);
    expect(opt.readUInt32BE(12)).toBe(NOW);
  });

  it('the server cookie it made is valid for that client cookie and address, for an hour', () => {
    const opt = jar.option(client, '127.0.0.1', NOW);
    expect(jar.check(opt, '127.0.0.1', NOW + 10).kind).toBe('valid');
    expect(jar.check(opt, '127.0.0.1', NOW + 3599).kind).toBe('valid');
    expect(jar.check(opt, '127.0.0.1', NOW + 3601).kind).toBe('invalid'); // stale
    expect(jar.check(opt, '127.0.0.2', NOW).kind).toBe('invalid'); // another address
    const other = Buffer.from(opt);
    other[0] ^= 1; // another client cookie
    expect(jar.check(other, '127.0.0.1', NOW).kind).toBe('invalid');
    expect(new CookieJar(Buffer.alloc(16, 1)).check(opt, '127.0.0.1', NOW).kind).toBe('invalid'); // another secret
  });

  it('a length no cookie has is malformed: FORMERR (RFC 7873 §5.2.2)', () => {
    for (const n of [0, 4, 7, 9, 15, 41])
      expect(jar.check(Buffer.alloc(n), '127.0.0.1', NOW).kind).toBe('malformed');
    expect(jar.check(Buffer.alloc(16), '127.0.0.1', NOW).kind).toBe('invalid'); // well-formed, not ours
  });
});
