import assert from 'node:assert/strict';
import { placeMachine, placePeer, type Candidate } from '../../src/addr/placement.js';
import { AppError } from '../../src/errors.js';
import { REGIONS } from '../../src/model/regions.js';

const REGION = new Map(REGIONS.map((r) => [r.code, r]));
const h = (id: number, region: string, load: number): Candidate => ({ id, region, load });

describe('placement: machines', () => {
  const cases: { name: string; hosts: Candidate[]; region: string; want: number }[] = [
    { name: 'the only host of the region', hosts: [h(1, 'iad', 5)], region: 'iad', want: 1 },
    { name: 'the least loaded host', hosts: [h(1, 'iad', 3), h(2, 'iad', 1), h(3, 'iad', 2)], region: 'iad', want: 2 },
    { name: 'lowest id on a tie', hosts: [h(7, 'iad', 1), h(4, 'iad', 1), h(9, 'iad', 1)], region: 'iad', want: 4 },
    { name: 'never a host of another region, however idle', hosts: [h(1, 'ams', 0), h(2, 'iad', 50)], region: 'iad', want: 2 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(placeMachine(c.hosts, c.region), c.want));

  it('no host in the region: no_host, naming the region', () => {
    assert.throws(
      () => placeMachine([h(1, 'ams', 0)], 'iad'),
      (e: unknown) => e instanceof AppError && e.code === 'no_host' && e.message === 'no host in region iad to place the machine on',
    );
  });
});

describe('placement: developer peers', () => {
  const cases: { name: string; gateways: Candidate[]; region: string; want: number }[] = [
    { name: 'the gateway of the region', gateways: [h(1, 'ams', 0), h(2, 'iad', 9)], region: 'iad', want: 2 },
    { name: 'the gateway carrying the fewest peers', gateways: [h(1, 'iad', 4), h(2, 'iad', 2)], region: 'iad', want: 2 },
    { name: 'lowest id on a tie', gateways: [h(5, 'iad', 0), h(3, 'iad', 0)], region: 'iad', want: 3 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(placePeer(c.gateways, REGION.get(c.region)!, REGION), c.want));

  const noGateway: { name: string; gateways: Candidate[]; region: string; message: string }[] = [
    {
      name: 'none in the region: the three nearest regions with one, nearest first',
      gateways: [h(1, 'syd', 0), h(2, 'ams', 0), h(3, 'fra', 0), h(4, 'lhr', 0), h(5, 'nrt', 0), h(6, 'ams', 3)],
      region: 'cdg',
      message: 'no gateway in region cdg; nearest gateways: lhr, ams, fra',
    },
    {
      name: 'fewer than three regions with one: those',
      gateways: [h(1, 'syd', 0)],
      region: 'iad',
      message: 'no gateway in region iad; nearest gateways: syd',
    },
    {
      name: 'no gateway anywhere',
      gateways: [],
      region: 'iad',
      message: 'no gateway in region iad; no gateway host is enrolled anywhere',
    },
  ];
  for (const c of noGateway) {
    it(c.name, () => {
      assert.throws(
        () => placePeer(c.gateways, REGION.get(c.region)!, REGION),
        (e: unknown) => e instanceof AppError && e.code === 'no_gateway' && e.message === c.message,
      );
    });
  }
});

describe('placement: unreachable hosts get nothing new', () => {
  const down = (c: Candidate): Candidate => ({ ...c, reachable: false });
  it('a silent host with no machines does not take every new machine of its region', () => {
    assert.equal(placeMachine([down(h(1, 'iad', 0)), h(2, 'iad', 40)], 'iad'), 2);
  });
  it('every host of the region silent: no_host, naming them', () => {
    assert.throws(
      () => placeMachine([down(h(1, 'iad', 0)), down(h(3, 'iad', 2)), h(2, 'ams', 0)], 'iad'),
      (e: unknown) =>
        e instanceof AppError && e.code === 'no_host' && e.message === 'no reachable host in region iad to place the machine on (unreachable: 1, 3)',
    );
  });
  it('an unreachable gateway is not chosen, nor named as a nearest one', () => {
    assert.equal(placePeer([down(h(1, 'iad', 0)), h(2, 'iad', 9)], REGION.get('iad')!, REGION), 2);
    assert.throws(
      () => placePeer([down(h(1, 'iad', 0)), down(h(2, 'ewr', 0)), h(3, 'fra', 0)], REGION.get('iad')!, REGION),
      (e: unknown) => e instanceof AppError && e.code === 'no_gateway' && e.message === 'no gateway in region iad; nearest gateways: fra',
    );
  });
});
