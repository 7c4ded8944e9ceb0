// One wording for what the censor did, shared by its events and the pcap dry-run, so a workshop
// can put the two side by side: one line per forged packet, in the order they were sent.
import type { EventInput } from '../common/events.js';
import type { Outcome } from './censor.js';
import type { OutcomeEvent } from './events.js';
import { flagNames } from './packets.js';

export function outcomeEvent(o: Outcome): EventInput<OutcomeEvent> {
  if (o.kind === 'match') {
    const m = o.match;
    return {
      kind: 'censor.match',
      summary: `rule "${m.rule.text}" matched ${m.trigger} ${m.value} on ${m.flow.proto} ${m.flow.client} → ${m.flow.server}`,
      data: { rule: m.rule, trigger: m.trigger, value: m.value, flow: m.flow },
    };
  }
  if (o.kind === 'rst') {
    const packets = o.packets.map(({ frame: _f, ...p }) => p);
    return {
      kind: 'rst.injected',
      summary: `${o.packets.length} forged RSTs (TTL ${o.packets[0]?.ttl}) for ${o.match.flow.client} ↔ ${o.match.flow.server}, after ${flagNames(o.trigger.flags)} seq ${o.trigger.seq}`,
      data: { rule: o.match.rule, flow: o.match.flow, trigger: o.trigger, packets },
    };
  }
  const { frame: _f, ...a } = o.answer;
  return {
    kind: 'dns.injected',
    summary: `forged answer ${a.name} ${a.type} → ${a.answer ?? '(no record)'} to ${a.dst}, spoofed from ${a.src} (TTL ${a.ttl})`,
    data: { rule: o.match.rule, flow: o.match.flow, ...a },
  };
}

/** The dry-run's lines for one outcome (and what the integration test compares with a capture). */
export function outcomeLines(o: Outcome): string[] {
  if (o.kind === 'match') {
    const m = o.match;
    return [`match  ${m.rule.text}  (${m.trigger} ${m.value})  ${m.flow.client} -> ${m.flow.server}`];
  }
  if (o.kind === 'rst')
    return o.packets.map(
      (p) =>
        `inject ${p.flags.padEnd(7)} to ${p.to.padEnd(6)} ${p.src}:${p.sport} -> ${p.dst}:${p.dport} seq=${p.seq} ack=${p.ack} ttl=${p.ttl}${p.ipId !== undefined ? ` id=0x${p.ipId.toString(16)}` : ''}`,
    );
  const a = o.answer;
  return [
    `inject DNS     to client ${a.src} -> ${a.dst} id=${a.id} ${a.name} ${a.type} ${a.answer ?? '-'} ttl=${a.ttl}${a.ipId !== undefined ? ` id=0x${a.ipId.toString(16)}` : ''}`,
  ];
}
