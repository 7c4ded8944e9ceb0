import { describe, expect, it } from 'vitest';
import { lossRuleSpec, matchedPackets, minDataLength } from '../../../services/middlebox/loss.js';

describe('the loss rule', () => {
  it('drops the Nth data segment from one end to the other, once', () => {
    const argv = lossRuleSpec(
      { from: '172.28.2.80', to: '172.28.1.10', fromPort: 443, nth: 3 },
      'enterlab-loss-x',
    );
    expect(argv.join(' ')).toBe(
      '-p tcp -s 172.28.2.80 -d 172.28.1.10 --sport 443 --tcp-flags SYN,RST NONE -m length --length 81:65535 ' +
        '-m statistic --mode nth --every 3 --packet 2 -m limit --limit 1/hour --limit-burst 1 ' +
        '-m comment --comment enterlab-loss-x -j DROP',
    );
  });

  it('never matches a bare header: the length floor is IP + the longest TCP header', () => {
    expect(minDataLength('172.28.2.80')).toBe(81);
    expect(minDataLength('fd28:2::80')).toBe(101);
  });

  it('refuses what iptables would misread', () => {
    expect(() => lossRuleSpec({ from: '172.28.2.80', to: 'fd28:1::10', nth: 1 }, 't')).toThrow(/same family/);
    expect(() => lossRuleSpec({ from: '172.28.2.80', to: '172.28.1.10', nth: 0 }, 't')).toThrow(/nth/);
    expect(() => lossRuleSpec({ from: '172.28.2.80', to: '172.28.1.10', nth: 1 }, 'a b')).toThrow(/tag/);
  });

  it("reads the rule's packet counter from iptables -L -v -x", () => {
    const listing = `Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination
       1     1177 DROP       6    --  *      *       10.62.2.80           10.62.1.10           tcp spt:8080 limit: avg 1/hour burst 1 /* enterlab-loss-x */
`;
    expect(matchedPackets(listing, 'enterlab-loss-x')).toBe(1);
    expect(matchedPackets(listing, 'enterlab-loss-y')).toBeUndefined();
  });
});
