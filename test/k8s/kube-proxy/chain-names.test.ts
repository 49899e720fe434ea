import { describe, expect, it } from 'vitest';
import {
  extChainName, fwChainName, portProtoHash, sepChainName, servicePortName, svcChainName, svlChainName,
} from '../../../src/k8s/kube-proxy/chain-names.js';

describe('kube-proxy chain-name hashing (portProtoHash, servicePortEndpointChainName)', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', 'XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80', 'tcp', 'GNZBNJ2PO5MGZ6GT'],
    ['kube-system/kube-dns:dns', 'udp', 'TCOU7JCQXEZGVUNU'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', 'ERIFXISQEP7F7OF4'],
    ['kube-system/kube-dns:metrics', 'tcp', 'JD5MR3NA4I4DYORP'],
    ['default/kubernetes:https', 'tcp', 'NPX46M4PTMTKRN6Y'],
    ['default/web:http', 'tcp', 'CDGGSHYLG3RE2FKL'],
  ])('%s + %s → %s', (spn, proto, hash) => {
    expect(portProtoHash(spn, proto)).toBe(hash);
    expect(svcChainName(spn, proto)).toBe(`KUBE-SVC-${hash}`);
    expect(svlChainName(spn, proto)).toBe(`KUBE-SVL-${hash}`);
    expect(extChainName(spn, proto)).toBe(`KUBE-EXT-${hash}`);
    expect(fwChainName(spn, proto)).toBe(`KUBE-FW-${hash}`);
  });

  it.each([
    ['ns1/svc1:p80', 'tcp', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ['default/web:http', 'tcp', '10.244.1.3:8080', 'KUBE-SEP-2AZ33KU3V5PGPQZH'],
    ['default/web:http', 'tcp', '10.244.2.2:8080', 'KUBE-SEP-4EX2N4PG4ASNZOBF'],
    ['kube-system/kube-dns:dns', 'udp', '10.244.2.3:53', 'KUBE-SEP-ZHICQ2ODADGCY7DS'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', '10.244.2.3:53', 'KUBE-SEP-DLP2S2N3HX5UKLVP'],
  ])('%s + %s + %s → %s', (spn, proto, ep, chain) => {
    expect(sepChainName(spn, proto, ep)).toBe(chain);
  });

  it('names a service port as ServicePortName.String() does', () => {
    expect(servicePortName('default', 'web', 'http')).toBe('default/web:http');
    expect(servicePortName('default', 'web', '')).toBe('default/web');
  });

  it('is case-sensitive in the protocol (old releases hashed "TCP" and got other names)', () => {
    expect(portProtoHash('ns1/svc1:p80', 'TCP')).not.toBe('XPGD46QRK7WJZT7O');
  });
});
