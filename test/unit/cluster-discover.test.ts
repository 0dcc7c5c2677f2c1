import assert from 'node:assert/strict';
import { parseInstances } from '../../src/demo/cluster/discover.js';

describe('cluster discovery: _instances.internal parsing', () => {
  const cases: { name: string; txt: string[][]; want: { id: string; app: string }[] }[] = [
    { name: 'empty', txt: [], want: [] },
    { name: 'one record, one string', txt: [['instance=aa,app=web,ip=fdaa::2,region=iad']], want: [{ id: 'aa', app: 'web' }] },
    {
      name: 'a value split over 255-byte strings',
      txt: [['instance=aa,app=web,ip=fdaa::2,reg', 'ion=iad;instance=bb,app=db,ip=fdaa::3,region=ord']],
      want: [{ id: 'aa', app: 'web' }, { id: 'bb', app: 'db' }],
    },
    { name: 'garbage items are skipped', txt: [['nonsense;instance=cc,app=x,ip=fdaa::4,region=syd;;']], want: [{ id: 'cc', app: 'x' }] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseInstances(c.txt).map(({ id, app }) => ({ id, app })), c.want));
  }
});
