// End to end, one agent's duties: `machines run` commands, repair of an
// attachment removed behind its back, the hook driver, failed attachments,
// and a restart that changes nothing. Real binaries and namespaces.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../../src/model/types.js';
import { MeshLab } from '../../lab/meshlab.js';
import { e2eUnavailable, namespacesLike, pingLoss } from '../../testkit/mesh.js';

const HOOK = (dir: string): string => `#!/bin/sh
# A stand-in VM runtime: the "VM" is a namespace named hk-<machine id>.
set -e
ns="hk-$SIXPN_MACHINE_ID"
case "$1" in
attach)
  env | sort > "${dir}/$SIXPN_MACHINE_ID.tmp" && mv "${dir}/$SIXPN_MACHINE_ID.tmp" "${dir}/$SIXPN_MACHINE_ID.env"
  if [ "$SIXPN_APP_NAME" = "broken" ]; then echo "no capacity for $SIXPN_MACHINE_ID" >&2; exit 1; fi
  ip netns add "$ns"
  ip link add "$SIXPN_IFACE" mtu "$SIXPN_MTU" type veth peer name eth0 netns "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add "$SIXPN_PRIVATE_IP/112" dev eth0 nodad
  ip -n "$ns" route add default via "$SIXPN_GATEWAY_IP"
  ;;
detach)
  ip netns del "$ns" 2>/dev/null || true
  echo "$SIXPN_MACHINE_ID" >> "${dir}/detached"
  ;;
check)
  test -e "/var/run/netns/$ns"
  ;;
esac
`;

describe('agent (e2e: commands, repair, hook driver, restart)', function () {
  this.timeout(60_000);
  let w: MeshLab;
  let hook: string;
  let pinger: Machine;
  let server: Machine;
  const log = (region: string): string => readFileSync(w.agent(region).logFile, 'utf8');
  const machine = async (id: string): Promise<Machine> => (await w.api<{ machine: Machine }>('GET', `/v1/machines/${id}`)).machine;
  const state = (id: string, want: Machine['state']) =>
    w.until(`machine ${id} ${want}`, async () => ((await machine(id)).state === want ? machine(id) : false));

  before(async function () {
    const why = e2eUnavailable();
    if (why) throw new Error(`end-to-end tests need root and the Debian packages (npm test installs them): ${why}`);
    this.timeout(120_000);
    w = await MeshLab.start({ keep: Boolean(process.env.SIXPN_KEEP_LAB), logLevel: 'debug' });
    hook = join(w.dir, 'hook.sh');
    writeFileSync(hook, HOOK(w.dir));
    chmodSync(hook, 0o755);
    await Promise.all([w.addHost('ams'), w.addHost('iad'), w.addHost('fra', { args: ['--driver', 'hook', '--hook', hook] })]);
    await w.api('POST', '/v1/orgs', { name: 'acme' });
    for (const app of ['web', 'cli', 'ops', 'vm', 'broken']) await w.api('POST', '/v1/apps', { name: app, org: 'acme' });
    pinger = await w.createMachine('ops', 'iad');
    await w.attached(pinger);
  });

  after(async function () {
    this.timeout(60_000);
    if (!w) return;
    const ids = [...w.machines];
    await w.destroy();
    for (const id of ids) if (existsSync(`/var/run/netns/hk-${id}`)) await execa('ip', ['netns', 'delete', `hk-${id}`], { reject: false });
    assert.deepEqual(namespacesLike(w.id), []);
  });

  it('machines run: the command runs inside with SIXPN_* set, logs to the agent, and the machine stops when it exits', async () => {
    const m = await w.createMachine('web', 'ams', {
      command: [
        'sh',
        '-c',
        'echo "facts ip=$SIXPN_PRIVATE_IP app=$SIXPN_APP_NAME id=$SIXPN_MACHINE_ID region=$SIXPN_REGION"; getent hosts sixpn-local-6pn; grep nameserver /etc/resolv.conf; sleep 0.3',
      ],
    });
    await state(m.id, 'stopped');
    await w.until('namespace removed', async () => !existsSync(`/var/run/netns/sixpn-${m.id}`));
    // The agent forwards the output as it tails it: wait for the lines themselves.
    const facts = `facts ip=${m.address} app=web id=${m.id} region=ams`;
    const hostsLine = new RegExp(`${m.address.replace(/:/g, ':')}\\s+sixpn-local-6pn`);
    await w
      .until(
        'command output in the agent log',
        async () => {
          const t = log('ams');
          return t.includes(facts) && hostsLine.test(t) && t.includes('nameserver fdaa:');
        },
        15_000,
      )
      .catch(() => undefined); // the assertions below say which line is missing
    const text = log('ams');
    assert.ok(text.includes(facts), 'env facts not in the agent log');
    assert.match(text, hostsLine);
    assert.ok(text.includes('nameserver fdaa:'), 'resolv.conf not pointing at fdaa:N:N::3');
  });

  it('a command machine serves another machine, in another region, by name', async () => {
    // No --bind: the machine's gai.conf makes the wildcard :: (as `machines run -- python3 -m http.server 8080` in the README).
    server = await w.createMachine('web', 'ams', { command: ['python3', '-m', 'http.server', '8080'] });
    await w.attached(server);
    const client = await w.createMachine('cli', 'iad', {
      command: [
        'python3',
        '-c',
        'import time, urllib.request\nfor i in range(50):\n  try:\n    print("status", urllib.request.urlopen("http://web.internal:8080/", timeout=2).status); break\n  except Exception as e:\n    print("retry", e); time.sleep(0.2)',
      ],
    });
    await state(client.id, 'stopped');
    assert.match(log('iad'), /"msg":"status 200"/);
  });

  it("an attachment removed behind the agent's back is repaired", async () => {
    const ams = w.agent('ams');
    await execa('ip', ['-n', ams.host.ns, 'link', 'delete', `sx${server.id.slice(0, 8)}`]);
    await w.until(
      'repaired',
      async () => {
        const r = await w.inMachine(pinger.id, ['ping', '-6', '-c', '1', '-W', '1', server.address], { reject: false });
        return pingLoss(r.stdout) === 0;
      },
      20_000,
      200,
    );
    assert.match(log('ams'), /attachment broken; repairing/);
    assert.equal((await machine(server.id)).state, 'started');
  });

  it("hook driver: the hook gets the machine's facts, the agent configures and polices the host side", async () => {
    const vm = await w.createMachine('vm', 'fra');
    const envFile = join(w.dir, `${vm.id}.env`);
    await w.until('hook ran', async () => existsSync(envFile));
    const env = readFileSync(envFile, 'utf8');
    for (const line of [
      `SIXPN_PRIVATE_IP=${vm.address}`,
      'SIXPN_APP_NAME=vm',
      `SIXPN_MACHINE_ID=${vm.id}`,
      'SIXPN_REGION=fra',
      `SIXPN_IFACE=sx${vm.id.slice(0, 8)}`,
      'SIXPN_ACTION=attach',
    ]) {
      assert.ok(env.includes(`${line}\n`), `hook env lacks ${line}`);
    }
    assert.ok(!env.includes('ENROLL') && !env.includes('SIXPN_LAB'), "the agent's own environment leaked into the hook");
    await w.until(
      'vm reachable across the mesh',
      async () => {
        const r = await w.inMachine(pinger.id, ['ping', '-6', '-c', '1', '-W', '1', vm.address], { reject: false });
        return pingLoss(r.stdout) === 0;
      },
      15_000,
      200,
    );
    await w.api('POST', `/v1/machines/${vm.id}/stop`);
    await w.until('hook detach ran', async () => existsSync(join(w.dir, 'detached')) && readFileSync(join(w.dir, 'detached'), 'utf8').includes(vm.id));
  });

  it('an attachment that fails is reported as failed, with the reason', async () => {
    const b = await w.createMachine('broken', 'fra');
    const got = await state(b.id, 'failed');
    assert.match(got.reason ?? '', /no capacity/);
  });

  it('restarting a converged agent changes nothing: same device, same peers, same attachments, no rewrites', async () => {
    const ams = w.agent('ams');
    const index = await w.ifindex('ams');
    const veth = async (): Promise<string> =>
      (await execa('ip', ['-n', ams.host.ns, '-o', 'link', 'show', 'dev', `sx${server.id.slice(0, 8)}`])).stdout.split(':')[0]!;
    const vethIndex = await veth();
    const wgPid = readFileSync(join(ams.stateDir, 'wireguard-go.pid'), 'utf8').trim();
    await w.stopAgent('ams', 'SIGTERM');
    const mark = log('ams').length;
    await w.startAgent('ams');
    await w.until('restarted agent converged', async () => log('ams').slice(mark).includes('"msg":"converged"'), 15_000, 100);
    const fresh = log('ams').slice(mark);
    for (const msg of [
      'wg peers changed',
      'nftables table written',
      'machine attached',
      'machine detached',
      'started wireguard-go',
      'created kernel WireGuard device',
    ]) {
      assert.ok(!fresh.includes(`"msg":"${msg}"`), `restart did: ${msg}`);
    }
    assert.ok(fresh.includes('"msg":"adopted existing WireGuard device"'));
    assert.equal(await w.ifindex('ams'), index);
    assert.equal(await veth(), vethIndex);
    assert.equal(readFileSync(join(ams.stateDir, 'wireguard-go.pid'), 'utf8').trim(), wgPid);
    const r = await w.inMachine(pinger.id, ['ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', server.address], { reject: false });
    assert.equal(pingLoss(r.stdout), 0);
  });

  it('wireguard-go dying is repaired: a new device, peers and routes restored', async () => {
    const ams = w.agent('ams');
    const pid = Number(readFileSync(join(ams.stateDir, 'wireguard-go.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    await w.until(
      'mesh back',
      async () => {
        const r = await w.inMachine(pinger.id, ['ping', '-6', '-c', '1', '-W', '1', server.address], { reject: false });
        return pingLoss(r.stdout) === 0;
      },
      20_000,
      200,
    );
    assert.notEqual(Number(readFileSync(join(ams.stateDir, 'wireguard-go.pid'), 'utf8').trim()), pid);
    assert.match(log('ams'), /WireGuard device lost; recreating/);
  });
});
