// End to end: what real agents report with their heartbeats, as `sixpn
// status` shows it (namespaces, wireguard-go, real agents): the WireGuard
// handshake age between two hosts once traffic crosses, a small feed lag for
// each agent and its DNS server, and a host that sends without getting a
// handshake back listed as a problem. Also `machines create|run --wait`
// against a real agent: it returns when the name answers on the host, or
// fails with the host's reason.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import type { Machine } from '../../src/model/types.js';
import { MeshLab } from '../../lab/meshlab.js';
import { e2eUnavailable, namespacesLike, pingLoss } from '../../testkit/mesh.js';
import { runCli } from '../../testkit/proc.js';

interface StatusHost {
  id: number;
  region: string;
  status: string;
  reported_at: string | null;
  wireguard: { host_id: number; region: string | null; handshake_age_s: number | null; endpoint: string | null; sending: boolean }[] | null;
  agent_feed: { rev: number; lag: number; lag_s: number | null; last_change_s: number | null } | null;
  dns_feed: { rev: number; lag: number; lag_s: number | null; last_change_s: number | null } | null;
}
interface Status {
  problems: string[];
  coordinator: { revision: number };
  hosts: StatusHost[];
}

describe('sixpn status and --wait with real agents (e2e: namespaces, wireguard-go)', function () {
  this.timeout(90_000);
  let w: MeshLab;
  const m: Record<string, Machine> = {};
  const env = { SIXPN_CONFIG: '/nonexistent/sixpn-cli.json' };
  // Heartbeats (and their reports) every 500 ms instead of 10 s.
  const fast = { SIXPN_AGENT_HEARTBEAT_MS: '500' };
  const blockTable = (): string => `sxblock${w.id}`;

  /** The CLI as a process; the plain-HTTP token warning (lab bridge) is taken off stderr. */
  const cli = async (...args: string[]) => {
    const at = args.includes('--') ? args.indexOf('--') : args.length;
    const r = await runCli([...args.slice(0, at), '--api', w.url, '--token', w.adminToken, ...args.slice(at)], env);
    return { ...r, stderr: r.stderr.replace(/^sixpn: warning: sending a token over plain HTTP[^\n]*\n/, '') };
  };
  const status = async (): Promise<Status> => {
    const r = await cli('status', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Status;
  };
  const hostOf = (s: Status, region: string): StatusHost => s.hosts.find((h) => h.id === w.agent(region).hostId)!;

  before(async function () {
    const why = e2eUnavailable();
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    this.timeout(120_000);
    w = await MeshLab.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB), logLevel: 'warn' });
    await w.addHost('ams', { env: fast });
    await w.addHost('iad', { env: fast });
    // nrt refuses commands: a machine with one fails there, with the agent's reason.
    await w.addHost('nrt', { env: fast, args: ['--no-commands'] });
    await w.api('POST', '/v1/orgs', { name: 'acme' });
    await w.api('POST', '/v1/apps', { name: 'web', org: 'acme' });
  });

  after(async function () {
    this.timeout(60_000);
    if (!w) return;
    await w.destroy();
    assert.deepEqual(namespacesLike(w.id), [], 'lab namespaces left behind');
  });

  it('machines create --wait returns once the machine is attached and its name answers on its host', async () => {
    for (const region of ['ams', 'iad', 'nrt']) {
      const r = await cli('machines', 'create', '--app', 'web', '--region', region, '--wait', '--json');
      assert.equal(r.code, 0, r.stderr);
      const made = JSON.parse(r.stdout) as Machine;
      w.machines.add(made.id);
      m[region] = made;
      assert.equal(made.state, 'started');
      assert.ok(made.attached_at, 'attached_at is set');
      assert.equal(made.host_id, w.agent(region).hostId);
      // No retry: when --wait returns, the host's DNS already answers the machine's names.
      const own = await w.dig(made.id, `${made.id}.vm.web.internal`);
      assert.equal(own.status, 'NOERROR', `${region}: ${JSON.stringify(own)}`);
      assert.deepEqual(own.answers, [made.address]);
      assert.ok((await w.dig(made.id, 'web.internal')).answers.includes(made.address), `${region}: web.internal lists it`);
    }
  });

  it("machines run --wait fails with the real agent's reason", async () => {
    const r = await cli('machines', 'run', '--app', 'web', '--region', 'nrt', '--wait', '--wait-timeout', '30s', '--', 'true');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^sixpn machines: machine [0-9a-f]{14} failed on host \d+: this host refuses commands \(its agent runs with --no-commands\)/);
  });

  it('status --json shows the handshake age between two hosts once traffic crosses, and a small feed lag', async () => {
    const ping = await w.inMachine(m.ams!.id, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', m.iad!.address], { reject: false });
    assert.equal(pingLoss(ping.stdout), 0, ping.stdout + ping.stderr);
    const s = await w.until(
      'ams and iad report a handshake with each other',
      async () => {
        const x = await status();
        const seen = (from: string, to: string): boolean =>
          (hostOf(x, from).wireguard ?? []).some((p) => p.host_id === w.agent(to).hostId && p.handshake_age_s !== null);
        return seen('ams', 'iad') && seen('iad', 'ams') ? x : false;
      },
      30_000,
      300,
    );
    for (const [from, to] of [
      ['ams', 'iad'],
      ['iad', 'ams'],
    ] as const) {
      const p = hostOf(s, from).wireguard!.find((x) => x.host_id === w.agent(to).hostId)!;
      assert.equal(p.region, to);
      assert.ok(p.handshake_age_s! < 60, `${from} → ${to}: handshake ${p.handshake_age_s} s ago`);
      assert.equal(p.endpoint, `${w.agent(to).host.addr}:51820`);
    }
    // Every host peers with the two others.
    assert.deepEqual(
      hostOf(s, 'ams')
        .wireguard!.map((p) => p.region)
        .sort(),
      ['iad', 'nrt'],
    );
    for (const region of ['ams', 'iad', 'nrt']) {
      const h = hostOf(s, region);
      assert.ok(h.reported_at && Date.now() - Date.parse(h.reported_at) < 10_000, `${region} reported lately`);
      assert.ok(h.agent_feed && h.agent_feed.lag <= 1, `${region} agent lag: ${JSON.stringify(h.agent_feed)}`);
      assert.ok(h.dns_feed && h.dns_feed.lag <= 1, `${region} DNS lag: ${JSON.stringify(h.dns_feed)}`);
      assert.ok(h.agent_feed.rev <= s.coordinator.revision);
      assert.ok(h.dns_feed.last_change_s !== null, `${region}: its DNS worker applied something`);
    }
    assert.deepEqual(
      s.problems.filter((p) => /WireGuard|behind the coordinator/.test(p)),
      [],
    );
    // The human form: the two tables under the hosts table.
    const text = await cli('status');
    assert.equal(text.code, 0, text.stderr);
    const ams = `${w.agent('ams').hostId} \\(ams\\)`;
    const iad = `${w.agent('iad').hostId} \\(iad\\)`;
    assert.match(text.stdout, new RegExp(`\\n${ams}\\s+${iad}\\s+\\d+s ago\\s+(yes|no)\\s+\\S+:51820\\n`));
    assert.match(text.stdout, new RegExp(`\\nfeed lag[^\\n]*\\nHOST\\s+REPORTED\\s+AGENT_REV[^\\n]*\\n(.*\\n)*${ams}\\s+\\d+s ago\\s+\\d+\\s+[01]\\b`));
  });

  it('a host that sends to another but gets no handshake back is a problem, until the path is open again', async () => {
    // A new host whose WireGuard port drops everything from the start (a table of the test's own):
    // no handshake ever completes with it, though its agent reaches the coordinator.
    const nft = (ns: string, script: string) => execa('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
    const block = `table inet ${blockTable()} {\n chain input {\n  type filter hook input priority -10; policy accept;\n  udp dport 51820 drop\n }\n}\n`;
    const syd = await w.addHost('syd', { env: fast, beforeAgent: (h) => nft(h.ns, block).then(() => undefined) });
    const made = await cli('machines', 'create', '--app', 'web', '--region', 'syd', '--wait', '--json');
    assert.equal(made.code, 0, made.stderr);
    m.syd = JSON.parse(made.stdout) as Machine;
    w.machines.add(m.syd.id);
    const problem = new RegExp(`^host ${w.agent('ams').hostId} \\(ams\\) sends to host ${syd.hostId} \\(syd\\) over WireGuard but gets no handshake back`);
    // Keep traffic going from ams to syd's machine: wireguard-go retries its handshake every 5 s.
    const traffic = w.inMachine(m.ams!.id, ['ping', '-6', '-c', '240', '-i', '0.5', '-W', '1', m.syd.address], { reject: false, timeout: 120_000 });
    try {
      const s = await w.until('the problem is listed', async () => {
        const x = await status();
        return x.problems.some((p) => problem.test(p)) ? x : false;
      });
      assert.ok(s.problems.find((p) => problem.test(p))!.includes(`(last: never): is UDP ${syd.host.addr}:51820 reachable from host`));
      const link = hostOf(s, 'ams').wireguard!.find((p) => p.host_id === syd.hostId)!;
      assert.deepEqual([link.handshake_age_s, link.sending], [null, true]);
      await nft(syd.host.ns, `delete table inet ${blockTable()}\n`);
      await w.until(
        'the handshake comes and the problem goes',
        async () => {
          const x = await status();
          const l = hostOf(x, 'ams').wireguard!.find((p) => p.host_id === syd.hostId)!;
          return l.handshake_age_s !== null && !x.problems.some((p) => problem.test(p));
        },
        30_000,
        300,
      );
    } finally {
      await nft(syd.host.ns, `delete table inet ${blockTable()}\n`).catch(() => undefined);
      traffic.kill('SIGTERM');
      await traffic;
    }
  });
});
