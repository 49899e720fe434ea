/**
 * The part of kubelet's iptables set-up that shows in kube-proxy's tables
 * (k/k pkg/kubelet/kubelet_network_linux.go syncIPTablesRules): the KUBE-FIREWALL chain with the
 * martian-localnet DROP and jumps to it from filter INPUT and OUTPUT. kubelet starts before
 * kube-proxy, so these jumps sit below the ones kube-proxy prepends later; kube-proxy's own
 * EnsureRule for the same jumps then finds them present and leaves them.
 */
import type { Ruleset } from '../../net/netfilter/rules.js';
import { ensureChain, ensureRule, restoreNoFlush } from './iptables-client.js';

export function ensureKubeletFirewall(ruleset: Ruleset): void {
  ensureChain(ruleset, 'filter', 'KUBE-FIREWALL');
  restoreNoFlush(ruleset, [
    '*filter',
    ':KUBE-FIREWALL - [0:0]',
    '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    'COMMIT',
    '',
  ].join('\n'));
  ensureRule(ruleset, 'prepend', 'filter', 'OUTPUT', ['-j', 'KUBE-FIREWALL']);
  ensureRule(ruleset, 'prepend', 'filter', 'INPUT', ['-j', 'KUBE-FIREWALL']);
}
