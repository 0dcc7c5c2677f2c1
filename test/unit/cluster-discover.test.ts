import assert from 'node:assert/strict';
import { machineApiBase, parseInstances, parseVms } from '../../examples/cluster/discover.js';

describe('cluster discovery: _instances.internal parsing', () => {
  const cases: { name: string; txt: string[][]; want: { id: string; app: string }[] }[] = [
    { name: 'empty', txt: [], want: [] },
    { name: 'one record, one string', txt: [['instance=aa,app=web,ip=fdaa::2,region=iad']], want: [{ id: 'aa', app: 'web' }] },
    {
      name: 'a value split over 255-byte strings',
      txt: [['instance=aa,app=web,ip=fdaa::2,reg', 'ion=iad;instance=bb,app=db,ip=fdaa::3,region=ord']],
      want: [
        { id: 'aa', app: 'web' },
        { id: 'bb', app: 'db' },
      ],
    },
    { name: 'garbage items are skipped', txt: [['nonsense;instance=cc,app=x,ip=fdaa::4,region=syd;;']], want: [{ id: 'cc', app: 'x' }] },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(
        parseInstances(c.txt).map(({ id, app }) => ({ id, app })),
        c.want,
      ),
    );
  }
});

describe('cluster discovery: vms.<app>.internal parsing', () => {
  it('items, split strings, several records', () => {
    assert.deepEqual(parseVms([['aa11 iad,bb22 o', 'rd'], ['cc33 nrt']]), [
      { id: 'aa11', region: 'iad' },
      { id: 'bb22', region: 'ord' },
      { id: 'cc33', region: 'nrt' },
    ]);
    assert.deepEqual(parseVms([]), []);
  });
});

describe('cluster discovery: the machine API address', () => {
  it('comes from SIXPN_DNS_IP, or the network of SIXPN_PRIVATE_IP', () => {
    assert.equal(machineApiBase({ SIXPN_DNS_IP: 'fdaa:0:18::3' }), 'http://[fdaa:0:18::3]');
    assert.equal(machineApiBase({ SIXPN_PRIVATE_IP: 'fdaa:0:18:a7b:7d:f066:b83b:2' }), 'http://[fdaa:0:18::3]');
  });
});
