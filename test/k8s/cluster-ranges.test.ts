import { describe, expect, it } from 'vitest';
import { allocateNodePodCidrs, ClusterRangeError } from '../../src/k8s/cluster-ranges.js';

const texts = (r: ReturnType<typeof allocateNodePodCidrs>): string[] => r.map((n) => `${n.node}=${n.text}${n.explicit ? '*' : ''}`);

describe('per-node pod subnets', () => {
  it('gives the n-th node the n-th /24 of the pod CIDR', () => {
    expect(texts(allocateNodePodCidrs({ clusterCidr: '10.244.0.0/16' }, [{ name: 'cp' }, { name: 'n1' }, { name: 'n2' }]))).toEqual([
      'cp=10.244.0.0/24',
      'n1=10.244.1.0/24',
      'n2=10.244.2.0/24',
    ]);
  });

  it('keeps explicit podCIDRs and allocates the others around them, in node order', () => {
    const r = allocateNodePodCidrs({ clusterCidr: '10.244.0.0/16' }, [{ name: 'a' }, { name: 'n1', podCidr: '10.244.1.0/24' }, { name: 'b' }, { name: 'n2', podCidr: '10.244.2.0/24' }]);
    expect(texts(r)).toEqual(['a=10.244.0.0/24', 'n1=10.244.1.0/24*', 'b=10.244.3.0/24', 'n2=10.244.2.0/24*']);
    expect(r[2]?.cidr).toEqual({ ip: 0x0af4_0300, prefixLen: 24 });
  });

  it('honours the node mask size and accepts parsed prefixes', () => {
    const r = allocateNodePodCidrs({ clusterCidr: { network: 0x0a00_0000, prefixLen: 24 }, nodeMaskSize: 26 }, [{ name: 'a' }, { name: 'b', podCidr: { ip: 0x0a00_0000, prefixLen: 26 } }, { name: 'c' }]);
    expect(texts(r)).toEqual(['a=10.0.0.64/26', 'b=10.0.0.0/26*', 'c=10.0.0.128/26']);
  });

  it('refuses an explicit podCIDR outside the pod CIDR with the controller message', () => {
    expect(() => allocateNodePodCidrs({ clusterCidr: '172.21.0.0/16' }, [{ name: 'node02', podCidr: '192.168.3.0/24' }])).toThrow(
      'failed to mark cidr[192.168.3.0/24] at idx [0] as occupied for node: node02: cidr 192.168.3.0/24 is out the range of cluster cidr 172.21.0.0/16',
    );
  });

  it('refuses duplicate or overlapping explicit podCIDRs', () => {
    expect(() => allocateNodePodCidrs({ clusterCidr: '10.244.0.0/16' }, [{ name: 'a', podCidr: '10.244.1.0/24' }, { name: 'b', podCidr: '10.244.1.0/24' }])).toThrow(
      'node b: podCIDR 10.244.1.0/24 is already the podCIDR of node a',
    );
    expect(() => allocateNodePodCidrs({ clusterCidr: '10.244.0.0/16' }, [{ name: 'a', podCidr: '10.244.0.0/23' }, { name: 'b', podCidr: '10.244.1.0/24' }])).toThrow(
      'node b: podCIDR 10.244.1.0/24 overlaps podCIDR 10.244.0.0/23 of node a',
    );
  });

  it('runs out with cidrset\'s message', () => {
    const f = (): unknown => allocateNodePodCidrs({ clusterCidr: '10.244.0.0/23' }, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(f).toThrow(ClusterRangeError);
    expect(f).toThrow('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
    expect(() => allocateNodePodCidrs({ clusterCidr: '10.244.0.0/16', nodeMaskSize: 8 }, [])).toThrow(ClusterRangeError);
  });
});
