import { describe, expect, it } from 'vitest';
import { type LabSettings, settingsFromEnv } from '../../../services/common/settings.js';
import { createRuleSet, parseRule } from '../../../services/middlebox/rules.js';

const s: LabSettings = settingsFromEnv(
  {},
  { runtime: 'local', block: '127.62', portOffset: 0, ipv6: true, stateDir: '/tmp/enterlab-unit' },
);

describe('censor rules', () => {
  it('parses each kind, normalising names and projecting plan addresses', () => {
    expect(parseRule('sni Blocked.Test.', s)).toMatchObject({
      kind: 'sni',
      value: 'blocked.test',
      text: 'sni blocked.test',
    });
    expect(parseRule('ip 172.28.2.80:443', s)).toMatchObject({ addresses: ['127.62.2.80'], port: 443 });
    expect(parseRule('ip proxy', s).addresses).toEqual([
      '127.62.2.80',
      'fd7f:62:2::80',
      '127.62.3.80',
      'fd7f:62:3::80',
    ]);
    expect(parseRule('ip [fd7f:62:2::80]:443 rst+ack', s)).toMatchObject({
      addresses: ['fd7f:62:2::80'],
      port: 443,
      rstAck: true,
    });
    expect(parseRule('keyword forbidden offsets=0,10', s)).toMatchObject({
      offsets: [0, 10],
      text: 'keyword forbidden offsets=0,10',
    });
    expect(parseRule('dns blocked.test  # the comment', s).text).toBe('dns blocked.test');
  });

  it('the port of a rule is the plan port, offset like every lab port', () => {
    const unprivileged = { ...s, portOffset: 10000 };
    expect(parseRule('ip proxy:443', unprivileged).port).toBe(10443);
  });

  it('refuses anything outside the lab, and what does not parse, with what to do', () => {
    expect(() => parseRule('sni www.google.com', s)).toThrow(/not a lab name/);
    expect(() => parseRule('ip 8.8.8.8', s)).toThrow(/not an address of this lab/);
    expect(() => parseRule('ip 127.28.2.80', s)).toThrow(/not an address of this lab/); // another lab on lo
    expect(() => parseRule('ip nosuchhost', s)).toThrow(/neither a lab host nor an address/);
    expect(() => parseRule('ip proxy:99999', s)).toThrow(/not a port/);
    expect(() => parseRule('url blocked.test', s)).toThrow(/unknown rule kind "url".*e\.g\./);
    expect(() => parseRule('sni', s)).toThrow(/needs a value/);
    expect(() => parseRule('sni a..test', s)).toThrow(/not a DNS name/);
    expect(() => parseRule('sni blocked.test ttl=3', s)).toThrow(/unknown option/);
    expect(() => parseRule('dns blocked.test rst+ack', s)).toThrow(/takes no rst/);
  });

  it('a rule set changes only when the whole change is valid', () => {
    const set = createRuleSet(s);
    set.add('sni blocked.test');
    expect(() => set.add('sni example.com')).toThrow();
    expect(set.list().map((r) => r.text)).toEqual(['sni blocked.test']);
    expect(() => set.load('host blocked.test\nip 8.8.8.8\n')).toThrow(/line 2/);
    expect(set.list().map((r) => r.text)).toEqual(['sni blocked.test']);
    set.add('sni blocked.test'); // the same rule twice is one rule
    expect(set.list()).toHaveLength(1);
    expect(set.load('# rules\nhost blocked.test\n\ndns blocked.test\n').map((r) => r.text)).toEqual([
      'host blocked.test',
      'dns blocked.test',
    ]);
    expect(set.remove('host blocked.test').kind).toBe('host');
    expect(set.remove(String(set.list()[0].id)).kind).toBe('dns');
    expect(() => set.remove('sni blocked.test')).toThrow(/no rule/);
  });
});
