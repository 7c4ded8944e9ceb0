import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { hostOfAnyBlock, mermaidText, renderLadder } from '../../../lab-cli/render/ladder.js';
import { buildLadder, eventKey } from '../../../lab-cli/render/ladder-model.js';
import { isoMicros } from '../../../lab-cli/render/ladder-page.js';
import { parsePeer } from '../../../services/common/settings.js';
import { journeyEvents } from '../../support/journey-events.js';

type El = { nodeName: string; attrs?: { name: string; value: string }[]; childNodes?: El[] };
const all = (n: El, pred: (e: El) => boolean): El[] => [
  ...(pred(n) ? [n] : []),
  ...(n.childNodes ?? []).flatMap((c) => all(c, pred)),
];
const attr = (e: El, name: string) => e.attrs?.find((a) => a.name === name)?.value;

describe('ladder', () => {
  const hostOf = (p: unknown) => hostOfAnyBlock(parsePeer(p)?.address);

  it('turns events into messages between hosts, in time order, grouped by step', () => {
    const l = buildLadder(journeyEvents, hostOf);
    expect(l.participants).toEqual(['browser', 'resolver', 'ns-root', 'proxy']);
    expect(l.steps.map((s) => s.title)).toEqual(['2. type "a#b;c" and press Enter']);
    expect(
      l.steps[0].messages.map(
        (m) => `${m.from}>${m.to}${m.reply ? ' (reply)' : ''}${m.note ? ' (note)' : ''}`,
      ),
    ).toEqual([
      'browser>resolver',
      'resolver>ns-root',
      'ns-root>resolver (reply)',
      'resolver>browser (reply)',
      'browser>proxy',
      'browser>proxy',
      'browser>proxy',
      'proxy>proxy (note)',
      'proxy>browser (reply)',
      'browser>browser (note)',
      'browser>proxy',
    ]);
    expect(l.steps[0].messages[2].label).toBe('referral: test. 86400 IN NS ns-tld.test.');
  });

  it('names hosts of any block and of the docker plan, and nothing else', () => {
    expect(hostOfAnyBlock('127.41.2.12')).toBe('ns-tld');
    expect(hostOfAnyBlock('fd60:3::10')).toBe('app');
    expect(hostOfAnyBlock('172.28.2.53')).toBe('resolver');
    expect(hostOfAnyBlock('127.0.0.1')).toBeUndefined();
  });

  it('writes Mermaid with safe ids, entity-coded # and ;, dashed replies and a rect per step', () => {
    const { mmd } = renderLadder(journeyEvents, { hostOf });
    expect(mmd.split('\n').slice(0, 4)).toEqual([
      'sequenceDiagram',
      '  autonumber',
      '  participant browser as browser',
      '  participant resolver as resolver',
    ]);
    expect(mmd).toContain('  participant ns_root as ns-root');
    expect(mmd).toContain('    Note over browser,proxy: 2. type "a#35;b#59;c" and press Enter');
    expect(mmd).toContain('    ns_root-->>resolver: referral: test. 86400 IN NS ns-tld.test.');
    expect(mmd).toContain('    browser->>proxy: TLS ClientHello SNI www.example.test, ALPN h2 → TLSv1.3');
    expect(mmd.match(/^ {2}rect /gm)).toHaveLength(1);
    expect(mmd.match(/^ {2}end$/gm)).toHaveLength(1);
    expect(mermaidText('<b>#1;')).toBe('#60;b#62;#35;1#59;');
  });

  it('draws one SVG group per message in a page with no external resource, arrows linked to frames', () => {
    const connect = journeyEvents.find((e) => e.kind === 'tcp.connect');
    const frames = new Map([[eventKey(connect as (typeof journeyEvents)[0]), [7, 8, 9]]]);
    const { html, ladder } = renderLadder(journeyEvents, { hostOf, frames, title: 'press-enter <test>' });
    const doc = parse(html) as unknown as El;
    const msgs = all(doc, (e) => e.nodeName === 'g' && (attr(e, 'class') ?? '').startsWith('msg'));
    expect(msgs).toHaveLength(ladder.steps[0].messages.length);
    expect(msgs.filter((g) => attr(g, 'data-frames') === '7,8,9')).toHaveLength(1);
    expect(all(doc, (e) => attr(e, 'class') === 'msg reply')).toHaveLength(3);
    // self-contained: no src/href to anything outside the page
    const refs = all(doc, (e) => !!(attr(e, 'src') || attr(e, 'href')));
    expect(refs.map((e) => attr(e, 'src') ?? attr(e, 'href'))).toEqual([]);
    expect(html).toContain('<title>press-enter &lt;test&gt;</title>');
    expect(isoMicros(1_796_157_821_943_393)).toBe('2026-12-01T20:43:41.943393Z');
    expect(html).toContain(`since ${isoMicros(ladder.t0)} (UTC`);
  });
});
