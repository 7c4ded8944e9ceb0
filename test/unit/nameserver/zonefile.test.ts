import { describe, expect, it } from 'vitest';
import { formatZone, parseZone, ZoneSyntaxError } from '../../../services/nameserver/zonefile.js';

const zone = `; a comment line
$ORIGIN example.test.
$TTL 1h
@   IN SOA ns1 hostmaster (  ; multi-line
        7 3600 600
        86400 60 )
    IN NS  ns1
ns1 IN A   192.0.2.1
www 60 IN CNAME cdn
cdn IN 120 A 192.0.2.2     ; class before TTL works too
txt IN TXT "hello world" "with \\"quotes\\""
mx  MX 10 mail.example.test.
srv IN SRV 0 5 443 www
caa CAA 0 issue "ca.test"
*.wild A 192.0.2.3
$ORIGIN sub
host A 192.0.2.4
`;

describe('master files (RFC 1035 §5)', () => {
  const z = parseZone(zone, { origin: 'example.test.' });
  const find = (name: string, type: string) =>
    z.records.find((r) => r.name === name && r.type === type) as { ttl: number; data: unknown };

  it('reads $ORIGIN, $TTL with units, @, blank owners and ( … ) across lines', () => {
    expect(find('example.test', 'SOA').data).toMatchObject({
      mname: 'ns1.example.test',
      serial: 7,
      minimum: 60,
    });
    expect(find('example.test', 'NS').ttl).toBe(3600);
    expect(find('www.example.test', 'CNAME')).toMatchObject({ ttl: 60, data: 'cdn.example.test' });
    expect(find('cdn.example.test', 'A')).toMatchObject({ ttl: 120, data: '192.0.2.2' });
    expect(find('host.sub.example.test', 'A').data).toBe('192.0.2.4');
  });

  it('keeps quoted TXT strings with spaces and escapes', () => {
    expect((find('txt.example.test', 'TXT').data as Buffer[]).map(String)).toEqual([
      'hello world',
      'with "quotes"',
    ]);
  });

  it('reads MX, SRV, CAA and wildcards', () => {
    expect(find('mx.example.test', 'MX').data).toEqual({ preference: 10, exchange: 'mail.example.test' });
    expect(find('srv.example.test', 'SRV').data).toEqual({
      priority: 0,
      weight: 5,
      port: 443,
      target: 'www.example.test',
    });
    expect(find('caa.example.test', 'CAA').data).toEqual({ flags: 0, tag: 'issue', value: 'ca.test' });
    expect(find('*.wild.example.test', 'A').data).toBe('192.0.2.3');
  });

  it('names the line of an error', () => {
    expect(() => parseZone('$TTL 60\n@ SOA a b 1 1 1 1 1\nwww A 300.1.1.1\n', { origin: 'x.test.' })).toThrow(
      /line 3: "300.1.1.1" is not an IPv4/,
    );
    expect(() => parseZone('$TTL 60\nwww IN BOGUS 1\n', { origin: 'x.test.' })).toThrow(ZoneSyntaxError);
    expect(() => parseZone('$TTL 60\nwww IN A (1.2.3.4\n', { origin: 'x.test.' })).toThrow(/never closed/);
    expect(() => parseZone('$TTL 60\nwww.other.test. A 1.2.3.4\n', { origin: 'x.test.' })).toThrow(
      /outside the zone/,
    );
  });

  it('writes a zone back that parses to the same records', () => {
    const again = parseZone(formatZone(z.origin, z.records), { origin: 'example.test.' });
    expect(again.records.map((r) => [r.name, r.type, (r as { ttl: number }).ttl])).toEqual(
      z.records.map((r) => [r.name, r.type, (r as { ttl: number }).ttl]),
    );
  });
});
