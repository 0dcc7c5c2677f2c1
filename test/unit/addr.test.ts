import assert from 'node:assert/strict';
import {
  allocateMachineId,
  allocatePeerIndex,
  formatGroups,
  hostPrefix,
  isMachineId,
  machineAddress,
  machineFieldOf,
  machineGatewayAddress,
  machineSubnet,
  MAX_PEER_INDEX,
  networkDnsAddress,
  networkPrefix,
  nextSequentialId,
  parseAddress,
  peerAddress,
} from '../../src/addr/plan.js';
import { AppError } from '../../src/errors.js';
import fc from 'fast-check';
import { Address6 } from 'ip-address';

describe('address plan', () => {
  const cases: { name: string; got: () => string; want: string }[] = [
    { name: 'design example machine', got: () => machineAddress(0x18, 0x0a7b007d, 0xf066b83b), want: 'fdaa:0:18:a7b:7d:f066:b83b:2' },
    { name: 'host side of the /112', got: () => machineGatewayAddress(0x18, 0x0a7b007d, 0xf066b83b), want: 'fdaa:0:18:a7b:7d:f066:b83b:1' },
    { name: 'machine subnet', got: () => machineSubnet(0x18, 0x0a7b007d, 0xf066b83b), want: 'fdaa:0:18:a7b:7d:f066:b83b:0/112' },
    { name: 'design example peer', got: () => peerAddress(0x18, 0x0a7b007d, 0xa), want: 'fdaa:0:18:a7b:7d:0:a:2' },
    { name: 'network prefix', got: () => networkPrefix(0x18), want: 'fdaa:0:18::/48' },
    { name: 'network dns', got: () => networkDnsAddress(0x18), want: 'fdaa:0:18::3' },
    { name: 'large network id', got: () => networkPrefix(0xffffffff), want: 'fdaa:ffff:ffff::/48' },
    { name: 'host prefix', got: () => hostPrefix(2, 1), want: 'fdaa:0:2:0:1::/80' },
    { name: 'host prefix of a wide host id', got: () => hostPrefix(0x10002, 0xabcd0001), want: 'fdaa:1:2:abcd:1::/80' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(c.got(), c.want));

  const parses: { addr: string; want: ReturnType<typeof parseAddress> }[] = [
    { addr: 'fdaa:0:18:a7b:7d:f066:b83b:2', want: { prefix: 0xfdaa, networkId: 0x18, hostId: 0x0a7b007d, machineField: 0xf066b83b, suffix: 2 } },
    { addr: 'fdaa:0:18::3', want: { prefix: 0xfdaa, networkId: 0x18, hostId: 0, machineField: 0, suffix: 3 } },
    { addr: 'FDAA:FFFF:FFFF:0:1:0:a:2', want: { prefix: 0xfdaa, networkId: 0xffffffff, hostId: 1, machineField: 0xa, suffix: 2 } },
    { addr: 'fdab::1', want: null },
    { addr: '10.0.0.1', want: null },
    { addr: 'not an address', want: null },
    { addr: '', want: null },
  ];
  for (const c of parses) it(`parses ${JSON.stringify(c.addr)}`, () => assert.deepEqual(parseAddress(c.addr), c.want));

  it('round-trips machine ids through the address', () => {
    const id = 'f066b83b12ab34';
    const p = parseAddress(machineAddress(7, 9, machineFieldOf(id)))!;
    assert.equal(p.machineField.toString(16).padStart(8, '0'), id.slice(0, 8));
  });

  const ids: [string, boolean][] = [
    ['f066b83b12ab34', true],
    ['0000b83b12ab34', false],
    ['F066B83B12AB34', false],
    ['f066b83b12ab3', false],
    ['g066b83b12ab34', false],
  ];
  for (const [id, ok] of ids) it(`machine id ${id} valid=${ok}`, () => assert.equal(isMachineId(id), ok));

  it('allocates a machine id avoiding used fields and the 0000 peer range', () => {
    const seq = ['0000aaaa000000', 'aaaaaaaa000000', 'bbbbbbbb000000'];
    const id = allocateMachineId(
      (f) => f === 0xaaaaaaaa,
      () => seq.shift()!,
    );
    assert.equal(id, 'bbbbbbbb000000');
  });

  it('reports a full host instead of looping forever', () => {
    assert.throws(
      () =>
        allocateMachineId(
          () => true,
          () => 'aaaaaaaa000000',
          10,
        ),
      (e: unknown) => e instanceof AppError && e.code === 'host_full',
    );
  });

  it('allocates the lowest free peer index', () => {
    assert.equal(allocatePeerIndex(new Set()), 1);
    assert.equal(allocatePeerIndex(new Set([1, 2, 4])), 3);
  });

  it('refuses a peer index past the 16-bit space rather than wrapping', () => {
    const all = new Set(Array.from({ length: MAX_PEER_INDEX }, (_, i) => i + 1));
    assert.throws(
      () => allocatePeerIndex(all),
      (e: unknown) => e instanceof AppError && e.code === 'host_full' && /65535/.test(e.message),
    );
    assert.throws(() => peerAddress(1, 1, MAX_PEER_INDEX + 1), /outside/);
    assert.throws(() => peerAddress(1, 1, 0), /outside/);
  });

  it('never wraps network or host ids', () => {
    assert.equal(nextSequentialId(0, 'network'), 1);
    assert.throws(
      () => nextSequentialId(0xffffffff, 'network'),
      (e: unknown) => e instanceof AppError && e.code === 'exhausted',
    );
    assert.throws(() => machineAddress(0x100000000, 1, 1), /32-bit/);
  });

  it('formats addresses as ip-address does (RFC 5952), without it (property)', () => {
    for (const [groups, text] of [
      [[0xfdaa, 0, 5, 0, 0, 0, 0, 0], 'fdaa:0:5::'],
      [[0xfdaa, 0, 0, 0, 1, 0, 0, 3], 'fdaa::1:0:0:3'],
      [[0xfdaa, 0, 0, 1, 0, 0, 0, 0], 'fdaa:0:0:1::'],
      [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
      [[1, 0, 2, 0, 3, 0, 4, 0], '1:0:2:0:3:0:4:0'],
    ] as const)
      assert.equal(formatGroups(groups), text);
    const group = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) });
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
        assert.equal(formatGroups(g), new Address6(g.map((x) => x.toString(16)).join(':')).correctForm());
      }),
      { numRuns: 2000 },
    );
  });
});
