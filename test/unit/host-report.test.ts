// The pure parts of the host report: what the agent makes of `wg show dump`
// (handshake ages, "sending"), and the problems `sixpn status` reads from the
// reports (a host sending without a fresh handshake; a stuck replica).
import assert from 'node:assert/strict';
import { hostPeerReports, progressOf, SENDING_WINDOW_MS, type TxSeen } from '../../src/agent/host-report.js';
import { reportProblems } from '../../src/cli/commands/status-report.js';
import type { HostListed } from '../../src/client/types.js';
import type { FeedLagView, HostPeerView } from '../../src/model/host-report.js';
import type { WgDump, WgPeerInfo } from '../../src/wg/dump.js';
import { applyMessage, emptyMesh } from '../../src/ui/model.js';

const peer = (publicKey: string, o: Partial<WgPeerInfo> = {}): WgPeerInfo => ({
  publicKey,
  presharedKey: null,
  endpoint: '192.0.2.1:51820',
  allowedIps: [],
  latestHandshake: 0,
  rxBytes: 0,
  txBytes: 0,
  keepalive: 0,
  ...o,
});
const dump = (...peers: WgPeerInfo[]): WgDump => ({ device: { privateKey: null, publicKey: 'me', listenPort: 51820, fwmark: null }, peers });

describe('host report: the agent side', () => {
  const hostOf = new Map([
    ['kB', 2],
    ['kC', 3],
  ]);
  const now = 1_000_000_000;

  it('reports mesh hosts only, with handshake ages (null: never), sorted by host', () => {
    const r = hostPeerReports(
      dump(peer('kC', { latestHandshake: now / 1000 - 30, rxBytes: 5, txBytes: 7 }), peer('laptop', { latestHandshake: now / 1000 }), peer('kB')),
      hostOf,
      new Map(),
      now,
    );
    assert.deepEqual(r, [
      { host_id: 2, handshake_age_s: null, endpoint: '192.0.2.1:51820', rx_bytes: 0, tx_bytes: 0, sending: false },
      { host_id: 3, handshake_age_s: 30, endpoint: '192.0.2.1:51820', rx_bytes: 5, tx_bytes: 7, sending: false },
    ]);
  });

  it('sending: tx bytes grew within the last 30 s (not on the first sight of a key); gone keys are forgotten', () => {
    const seen: TxSeen = new Map();
    hostPeerReports(dump(peer('kB', { txBytes: 100 }), peer('kC', { txBytes: 100 })), hostOf, seen, now);
    const at = (ms: number, txB: number) =>
      hostPeerReports(dump(peer('kB', { txBytes: txB }), peer('kC', { txBytes: 100 })), hostOf, seen, ms).map((p) => [p.host_id, p.sending]);
    assert.deepEqual(at(now, 248), [
      [2, true],
      [3, false],
    ]);
    assert.deepEqual(
      at(now + SENDING_WINDOW_MS, 248),
      [
        [2, true],
        [3, false],
      ],
      'handshake retries come every 5 s: still sending between them',
    );
    assert.deepEqual(at(now + SENDING_WINDOW_MS + 1, 248), [
      [2, false],
      [3, false],
    ]);
    hostPeerReports(dump(peer('kB', { txBytes: 248 })), hostOf, seen, now);
    assert.deepEqual([...seen.keys()], ['kB']);
  });

  it('a clock-skewed handshake in the future is age 0, not negative', () => {
    assert.equal(hostPeerReports(dump(peer('kB', { latestHandshake: now / 1000 + 60 })), hostOf, new Map(), now)[0]!.handshake_age_s, 0);
  });

  it('replica progress: the revision and the ms since it last moved', () => {
    assert.deepEqual(progressOf({ rev: 7, at: null }, now), { rev: 7, last_change_ms: null });
    assert.deepEqual(progressOf({ rev: 7, at: now - 1500 }, now), { rev: 7, last_change_ms: 1500 });
  });
});

describe('host report: problems in `sixpn status`', () => {
  const lag = (o: Partial<FeedLagView> = {}): FeedLagView => ({ rev: 10, coordinator_rev: 10, lag: 0, lag_s: 0, last_change_s: 1, ...o });
  const link = (host_id: number, o: Partial<HostPeerView> = {}): HostPeerView => ({
    host_id,
    handshake_age_s: 10,
    latest_handshake: null,
    endpoint: null,
    rx_bytes: 0,
    tx_bytes: 0,
    sending: true,
    ...o,
  });
  const host = (
    id: number,
    region: string,
    o: Partial<HostListed> = {},
    peers: HostPeerView[] = [],
    agent = lag(),
    dns: FeedLagView | null = lag(),
  ): HostListed => ({
    id,
    region,
    endpoint: `192.0.2.${id}:51820`,
    public_key: `k${id}`,
    gateway: false,
    version: null,
    created_at: '',
    credential_id: null,
    last_seen: null,
    status: 'reachable',
    report: { reported_at: '', agent, dns, peers },
    ...o,
  });

  it('none when every handshake is fresh, idle tunnels are idle and replicas keep up', () => {
    assert.deepEqual(
      reportProblems([
        host(1, 'ams', {}, [link(2), link(3, { handshake_age_s: null, sending: false }), link(4, { handshake_age_s: 3600, sending: false })]),
        host(2, 'iad'),
        host(3, 'nrt'),
        host(4, 'fra', { report: null }),
        host(5, 'syd', {}, [], lag({ lag: 3, lag_s: 2 })),
      ]),
      [],
    );
  });

  it('sending without a handshake, or with one past 180 s, between reachable hosts', () => {
    const p = reportProblems([
      host(1, 'ams', {}, [link(2, { handshake_age_s: null }), link(3, { handshake_age_s: 181 }), link(4, { handshake_age_s: 180 })]),
      host(2, 'iad'),
      host(3, 'nrt'),
      host(4, 'fra'),
    ]);
    assert.deepEqual(p, [
      'host 1 (ams) sends to host 2 (iad) over WireGuard but gets no handshake back (last: never): is UDP 192.0.2.2:51820 reachable from host 1 (ams)?',
      'host 1 (ams) sends to host 3 (nrt) over WireGuard but gets no handshake back (last: 181 s ago): is UDP 192.0.2.3:51820 reachable from host 1 (ams)?',
    ]);
  });

  it('not when either host is unreachable (that is its own problem), nor for a peer no longer listed', () => {
    const stale = [link(2, { handshake_age_s: null }), link(9, { handshake_age_s: null })];
    assert.deepEqual(reportProblems([host(1, 'ams', {}, stale), host(2, 'iad', { status: 'unreachable' })]), []);
    assert.deepEqual(reportProblems([host(1, 'ams', { status: 'unreachable' }, stale), host(2, 'iad')]), []);
  });

  it('a replica whose oldest unapplied change waited past 30 s, or is no longer in the log', () => {
    const p = reportProblems([
      host(1, 'ams', {}, [], lag({ lag: 2, lag_s: 31 })),
      host(2, 'iad', {}, [], lag(), lag({ lag: 500, lag_s: null })),
      host(3, 'nrt', {}, [], lag({ lag: 2, lag_s: 30 })),
    ]);
    assert.deepEqual(p, [
      'host 1 (ams): its agent is 2 revision(s) behind the coordinator (its oldest unapplied change had waited 31 s): is its feed connected?',
      'host 2 (iad): its DNS server is 500 revision(s) behind the coordinator (changes it lacks are no longer in the change log): is its feed connected?',
    ]);
  });
});

describe("host report: the dashboard's copy", () => {
  it('host_status lines merge per host; a snapshot starts over; a removed host loses its links', () => {
    const state = { regions: [], orgs: [], networks: [], apps: [], hosts: [], machines: [], peers: [] };
    let mesh = applyMessage(emptyMesh(), { type: 'snapshot', rev: 1, state, peer_status: {} }, false).mesh;
    mesh = applyMessage(mesh, { type: 'host_status', status: { 1: [{ host_id: 2, latest_handshake: null }], 2: [] } }, true).mesh;
    mesh = applyMessage(mesh, { type: 'host_status', status: { 1: [{ host_id: 2, latest_handshake: '2026-01-01T00:00:00.000Z' }] } }, true).mesh;
    assert.deepEqual(mesh.hostStatus, { 1: [{ host_id: 2, latest_handshake: '2026-01-01T00:00:00.000Z' }], 2: [] });
    mesh = applyMessage(mesh, { type: 'change', rev: 2, at: '', ops: [{ entity: 'host', op: 'delete', key: '2' }] }, true).mesh;
    assert.deepEqual(Object.keys(mesh.hostStatus), ['1']);
    mesh = applyMessage(mesh, { type: 'snapshot', rev: 3, state, peer_status: {} }, true).mesh;
    assert.deepEqual(mesh.hostStatus, {});
  });
});
