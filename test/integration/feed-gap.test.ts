import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FeedClient } from '../../src/feed/client.js';
import { Replica, type ReplicaUpdate } from '../../src/feed/replica.js';
import { machineUpserted } from '../../src/model/changes.js';
import type { FeedMessage, State } from '../../src/model/types.js';
import { HOST_IAD, machine, NET_ACME } from '../../testkit/dns-fixture.js';
import { until } from '../../testkit/until.js';

// A real coordinator never skips a revision, so this watch stream is
// scripted: the first connection sends a snapshot, then one chunk holding
// revisions 2, 4 and 5 (3 is missing); the second must be a resync (since=0).
const A = machine('aaaaaaaa000001', 'web', NET_ACME, HOST_IAD, 'started');
const B = machine('bbbbbbbb000002', 'web', NET_ACME, HOST_IAD, 'started');
const C = machine('cccccccc000003', 'web', NET_ACME, HOST_IAD, 'started');
const AT = '2025-01-01T00:00:00.000Z';

function state(machines: State['machines']): State {
  return { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines, peers: [] };
}

const line = (m: FeedMessage): string => `${JSON.stringify(m)}\n`;

describe('change feed client with a revision gap', () => {
  let server: http.Server;
  let url: string;
  const sinces: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const since = new URL(req.url!, 'http://x').searchParams.get('since')!;
      sinces.push(since);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      if (sinces.length === 1) {
        res.write(line({ type: 'snapshot', rev: 1, state: state([]) }));
        // One write, one chunk: the gap (rev 3 missing) sits between lines the client has already read.
        setTimeout(
          () =>
            res.write(
              line({ type: 'change', rev: 2, at: AT, ops: [machineUpserted(A)] }) +
                line({ type: 'change', rev: 4, at: AT, ops: [machineUpserted(B)] }) +
                line({ type: 'change', rev: 5, at: AT, ops: [machineUpserted(C)] }),
            ),
          50,
        );
      } else {
        res.write(line({ type: 'snapshot', rev: 5, state: state([A, B, C]) }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('applies nothing after the gap, and resyncs from a snapshot', async () => {
    const replica = new Replica();
    const updates: { rev: number; snapshot: boolean; machines: string[] }[] = [];
    replica.subscribe((u: ReplicaUpdate) => updates.push({ rev: u.rev, snapshot: u.ops === null, machines: [...replica.machines.keys()].sort() }));
    const applied: number[] = [];
    const client = new FeedClient({ url, token: 't', replica, minBackoffMs: 20, maxBackoffMs: 50, idleTimeoutMs: 5000 });
    client.subscribe({ applied: (a) => applied.push(a.rev) });
    client.start();
    try {
      await until(() => replica.ready && replica.rev === 5);
      assert.deepEqual(sinces, ['0', '0'], 'the reconnect after the gap asks for a snapshot');
      assert.deepEqual(
        updates,
        [
          { rev: 1, snapshot: true, machines: [] },
          { rev: 2, snapshot: false, machines: [A.id] },
          { rev: 5, snapshot: true, machines: [A.id, B.id, C.id].sort() },
        ],
        'revisions 4 and 5 are never applied over the gap',
      );
      assert.deepEqual(applied, [2]);
    } finally {
      await client.stop();
    }
  });
});
