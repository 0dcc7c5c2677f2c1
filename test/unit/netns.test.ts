import assert from 'node:assert/strict';
import { gaiConf, hostsFile, interiorBatch, resolvConf } from '../../src/netns/driver.js';

describe('netns driver files', () => {
  const a = {
    machineId: 'f066b83b1234ab',
    address: 'fdaa:0:18:a7b:7d:f066:b83b:2',
    gateway: 'fdaa:0:18:a7b:7d:f066:b83b:1',
    subnet: 'fdaa:0:18:a7b:7d:f066:b83b:0/112',
    dnsAddress: 'fdaa:0:18::3',
  };
  it('resolv.conf points at the network DNS address', () => {
    assert.equal(resolvConf(a), 'nameserver fdaa:0:18::3\noptions ndots:0\n');
  });
  it('hosts file names the machine sixpn-local-6pn', () => {
    assert.match(hostsFile(a), /^fdaa:0:18:a7b:7d:f066:b83b:2\tsixpn-local-6pn f066b83b1234ab$/m);
    assert.match(hostsFile(a), /^127\.0\.0\.1\tlocalhost$/m);
  });
  it('gai.conf puts IPv6 (and the :: wildcard) first', () => {
    assert.match(gaiConf(), /^label ::\/0 1$/m);
    assert.match(gaiConf(), /^precedence ::\/0 100$/m);
  });
  it('interior: address in the /112, default route via the host side', () => {
    assert.equal(
      interiorBatch(a),
      [
        'link set lo up',
        'link set eth0 up',
        'address add fdaa:0:18:a7b:7d:f066:b83b:2/112 dev eth0 nodad',
        'route add default via fdaa:0:18:a7b:7d:f066:b83b:1 dev eth0',
        '',
      ].join('\n'),
    );
  });
});
