import { describe, expect, it } from 'vitest';
import { programFlannelIptables } from '../../../src/k8s/flannel-iptables.js';
import { renderIptablesSave } from '../../../src/net/netfilter/iptables-save.js';
import { createRuleset } from '../../../src/net/netfilter/rules.js';
import { parseIpv4 } from '../../../src/packet/addr.js';

const DATE = new Date(Date.UTC(2026, 0, 1));
const network = { addr: parseIpv4('10.42.0.0'), prefixLen: 16 };
const subnet = { addr: parseIpv4('10.42.7.0'), prefixLen: 24 };

describe('flannel iptables rules', () => {
  it('masquerades pod → outside with the node\'s own subnet in the RETURN rules', () => {
    const rs = createRuleset();
    programFlannelIptables(rs, { network, subnet });
    const lines = renderIptablesSave(rs, { date: DATE }).split('\n').filter((l) => l.startsWith('-A'));
    expect(lines).toEqual([
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      '-A FLANNEL-FWD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A FLANNEL-FWD -d 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.42.7.0/24 -d 10.42.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.42.0.0/16 -d 10.42.7.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG ! -s 10.42.0.0/16 -d 10.42.7.0/24 -m comment --comment "flanneld masq" -j RETURN',
      '-A FLANNEL-POSTRTG -s 10.42.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
      '-A FLANNEL-POSTRTG ! -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    ]);
  });

  it('is idempotent (-C before -A) and honours --ip-masq=false and no --random-fully', () => {
    const rs = createRuleset();
    programFlannelIptables(rs, { network, subnet, randomFully: false });
    const once = renderIptablesSave(rs, { date: DATE });
    programFlannelIptables(rs, { network, subnet, randomFully: false });
    expect(renderIptablesSave(rs, { date: DATE })).toBe(once);
    expect(once).toContain('-j MASQUERADE\n');
    expect(once).not.toContain('--random-fully');
    const noMasq = createRuleset();
    programFlannelIptables(noMasq, { network, subnet, ipMasq: false });
    expect(renderIptablesSave(noMasq, { date: DATE })).not.toContain('*nat');
  });
});
