// A short press-enter in events, as the hosts print them on block 127.60: one step, a DNS walk
// (browser → resolver → ns-root), one TLS connection over IPv6, one request, the FIN.
import type { LabEvent } from '../../services/common/events.js';

const T = 1_796_000_000_000_000;
export const journeyEvents: LabEvent[] = [
  { ts: T, host: 'lab', kind: 'scenario.step', summary: 'type "a#b;c" and press Enter', data: { step: 2 } },
  {
    ts: T + 1000,
    host: 'resolver',
    kind: 'dns.query',
    summary: 'q',
    peer: '127.60.1.10:40000',
    data: { from: 'browser', name: 'www.example.test', type: 'A', id: 11 },
  },
  {
    ts: T + 2000,
    host: 'ns-root',
    kind: 'dns.query',
    summary: 'q',
    peer: '127.60.2.53:40001',
    data: { from: 'resolver', name: 'test', type: 'A', id: 12 },
  },
  {
    ts: T + 2100,
    host: 'ns-root',
    kind: 'dns.referral',
    summary: 'r',
    peer: '127.60.2.53:40001',
    data: { name: 'test', type: 'A', id: 12, authority: ['test. 86400 IN NS ns-tld.test.'] },
  },
  {
    ts: T + 3000,
    host: 'resolver',
    kind: 'dns.answer',
    summary: 'a',
    peer: '127.60.1.10:40000',
    data: {
      name: 'www.example.test',
      type: 'A',
      id: 11,
      answers: ['www.example.test. 300 IN A 127.60.2.80'],
    },
  },
  {
    ts: T + 5000,
    host: 'browser',
    kind: 'tcp.connect',
    summary: 'c',
    peer: 'fd7f:60:2::80:443',
    data: { connection: '1', src: 'fd7f:60:1::10', sport: 45000, dst: 'fd7f:60:2::80', dport: 443, ms: 0.5 },
  },
  {
    ts: T + 7000,
    host: 'browser',
    kind: 'tls.handshake',
    summary: 't',
    peer: 'fd7f:60:2::80:443',
    data: { connection: '1', sni: 'www.example.test', alpn: 'h2', version: 'TLSv1.3' },
  },
  {
    ts: T + 8000,
    host: 'proxy',
    kind: 'http.request',
    summary: 'GET',
    peer: 'fd7f:60:1::10:45000',
    data: { method: 'GET', host: 'www.example.test', url: '/hej' },
  },
  {
    ts: T + 8100,
    host: 'proxy',
    kind: 'cache.lookup',
    summary: 'miss',
    data: { result: 'miss', url: 'www.example.test/hej' },
  },
  {
    ts: T + 9000,
    host: 'browser',
    kind: 'http.response',
    summary: '200',
    data: { connection: '1', status: 200, httpVersion: 'HTTP/2', url: 'https://www.example.test/hej' },
  },
  { ts: T + 9500, host: 'browser', kind: 'page.render', summary: 'painted', data: { title: 'Hej' } },
  {
    ts: T + 10000,
    host: 'browser',
    kind: 'tcp.close',
    summary: 'FIN',
    peer: 'fd7f:60:2::80:443',
    data: { connection: '1', src: 'fd7f:60:1::10:45000', dst: 'fd7f:60:2::80:443' },
  },
];
export const T0 = T;
