// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${dst:host} is the scenario syntax under test, not a template
import { copyFileSync, truncateSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkPackets,
  expandHostRefs,
  hostRefErrors,
  iographCounts,
} from '../../../lab-cli/capture/expect.js';
import { settingsFromEnv } from '../../../services/common/settings.js';
import { dnsMessage, makePcapng } from '../../support/pcap.js';

const local6 = settingsFromEnv({}, { runtime: 'local', block: '127.60', ipv6: true });
const local4 = settingsFromEnv({}, { runtime: 'local', block: '127.61', ipv6: false });
const docker = settingsFromEnv({}, { runtime: 'docker', block: '127.28' });

describe('host references in packet filters', () => {
  it('turn ${dst:host} into every address of the host on this runtime, v4 and v6', () => {
    expect(expandHostRefs('dns && ${dst:ns-root}', local6)).toBe(
      'dns && (ip.dst == 127.60.2.11 || ipv6.dst == fd7f:60:2::11)',
    );
    expect(expandHostRefs('${src:proxy}', local4)).toBe('(ip.src == 127.61.2.80 || ip.src == 127.61.3.80)');
    expect(expandHostRefs('${host:browser}', docker)).toBe(
      '(ip.addr == 172.28.1.10 || ipv6.addr == fd28:1::10)',
    );
    expect(expandHostRefs('dns.a == ${ip:proxy} || dns.aaaa == ${ip6:proxy}', local6)).toBe(
      'dns.a == 127.60.2.80 || dns.aaaa == fd7f:60:2::80',
    );
  });

  it('name what is wrong with a misspelled host or form', () => {
    expect(hostRefErrors('${dst:ns-rot}')[0]).toMatch(/"ns-rot" is not a lab host \(known: browser,/);
    expect(hostRefErrors('${ns-root}')[0]).toMatch(/not a host reference \(write \$\{dst:NAME\}/);
    expect(hostRefErrors('dns && ${src:resolver}')).toEqual([]);
    expect(() => expandHostRefs('${to:ca}', local6)).toThrow(/not a host reference/);
  });
});

describe('checkPackets', () => {
  const file = makePcapng([
    { src: '127.60.2.53', dst: '127.60.2.11', sport: 40000, dport: 53, payload: dnsMessage('test', 7) },
    { src: '127.60.2.11', dst: '127.60.2.53', sport: 53, dport: 40000, payload: dnsMessage('test', 7, true) },
    {
      src: 'fd7f:60:2::53',
      dst: 'fd7f:60:2::12',
      sport: 40001,
      dport: 53,
      payload: dnsMessage('example.test', 8),
    },
  ]);

  it('counts the frames of each expanded filter with sharkd and judges count, min and max', async () => {
    const q = (host: string) => expandHostRefs(`dns.flags.response == 0 && \${dst:${host}}`, local6);
    const r = await checkPackets(file, [
      { filter: q('ns-root'), count: 1 },
      { filter: q('ns-tld'), count: 1 },
      { filter: q('ns-example'), count: 0 },
      { filter: 'dns', min: 4 },
      { filter: 'dns.qry.name == "test"', max: 1 },
    ]);
    expect(r.results.map((x) => [x.actual, x.ok])).toEqual([
      [1, true],
      [1, true],
      [0, true],
      [3, false],
      [2, false],
    ]);
    expect(r.results[3].frames).toEqual([1, 2, 3]); // a failed expectation lists its frames
    expect(r.ok).toBe(false);
  });

  it("sums each graph's buckets of sharkd's iograph answer", () => {
    expect(iographCounts({ iograph: [{ items: [1] }, { items: [20, 6] }, { items: [] }] })).toEqual([
      1, 26, 0,
    ]);
  });

  it('counts more filters than one iograph request holds, each as tshark -Y counts it', async () => {
    const filters = Array.from({ length: 13 }, (_, i) => `frame.number > ${i % 4} && dns`);
    const r = await checkPackets(
      file,
      filters.map((filter) => ({ filter, min: 0 })),
    );
    expect(r.results.map((x) => x.actual)).toEqual(filters.map((_, i) => Math.max(0, 3 - (i % 4))));
  });

  it('counts a filter too long for sharkd (2 KiB request line) with tshark instead', async () => {
    const ids = [7, ...Array.from({ length: 150 }, (_, i) => 100 + i)]; // frames 1 and 2 have id 7
    const long = `dns && (${ids.map((id) => `dns.id == ${id}`).join(' || ')})`;
    expect(long.length).toBeGreaterThan(2048);
    const r = await checkPackets(file, [
      { filter: long, count: 2 },
      { filter: 'dns', count: 3 },
    ]);
    expect(r.results.map((x) => [x.actual, x.ok])).toEqual([
      [2, true],
      [3, true],
    ]);
  });

  it('counts a filter with a comma (a set) like any other', async () => {
    const r = await checkPackets(file, [
      { filter: 'dns.qry.name in {"test", "example.test"}', count: 3 },
      { filter: 'dns', count: 3 },
    ]);
    expect(r.results.map((x) => x.actual)).toEqual([3, 3]);
  });

  it('names a filter Wireshark cannot parse, still counts the others, and reports a cut-short file as broken', async () => {
    const r = await checkPackets(file, [
      { filter: 'dns.nosuchfield == 1', count: 0 },
      { filter: 'dns', count: 3 },
    ]);
    expect(r.results[0]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a valid display filter: .*dns\.nosuchfield/),
    });
    expect(r.results[1]).toMatchObject({ ok: true, actual: 3 });
    expect(r.ok).toBe(false);
    const cut = file.replace(/\.pcapng$/, '-cut.pcapng');
    copyFileSync(file, cut);
    truncateSync(cut, 700); // in the middle of the last packet
    await expect(checkPackets(cut, [{ filter: 'dns', count: 3 }])).rejects.toThrow(/ERR_CAPTURE_BROKEN/);
  });
});
