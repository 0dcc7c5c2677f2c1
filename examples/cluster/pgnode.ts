// A database-shaped node (a small TCP service standing in for PostgreSQL):
// one of the app's machines is the primary, and marks itself `role=primary`
// through the host's machine API (http://[fdaa:N:N::3], no token: the host
// knows the caller by its attachment). Clients dial
// `primary.role.kv._metadata.<app>.internal`. When no primary is in DNS, the
// started machine with the lowest id promotes itself; a primary that sees
// another primary with a lower address steps down. Replicas "follow" the
// primary (dial it and report whom they follow).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { addresses, machineApiBase, vms } from './discover.js';
import { every, serveStatus } from './status.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5432' }, interval: { type: 'string', default: '300' } } });
const PORT = Number(values.port);
const APP = process.env.SIXPN_APP_NAME ?? 'pg';
const ID = process.env.SIXPN_MACHINE_ID ?? '';
const IP = process.env.SIXPN_PRIVATE_IP ?? '';
const API = machineApiBase();
const PRIMARY_NAME = `primary.role.kv._metadata.${APP}.internal`;

let role: 'primary' | 'replica' | 'starting' = 'starting';
let since = Date.now();
let following: string | null = null;

async function machineApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function setRole(r: 'primary' | 'replica'): Promise<void> {
  await machineApi('PUT', '/v1/self/metadata/role', { value: r });
  if (r !== role) {
    process.stdout.write(`pg ${ID}: role ${role} -> ${r}\n`);
    role = r;
    since = Date.now();
  }
}

/** Ask a node who it is: `PRIMARY <id>` or `REPLICA <id>`. */
function ask(ip: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: PORT });
    sock.setEncoding('utf8');
    const done = (v: string | null): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => done(null));
    sock.on('data', (d: string) => done(/^PRIMARY (\S+)/.exec(d)?.[1] ?? null));
    sock.on('error', () => done(null));
  });
}

const lowest = (ips: string[]): string => [...ips].sort()[0]!;

async function tick(): Promise<void> {
  const primaries = await addresses(PRIMARY_NAME);
  if (primaries === null) return; // DNS did not answer: change nothing
  const others = primaries.filter((ip) => ip !== IP);
  if (role === 'primary') {
    // Two primaries (a partition healed): the lower address keeps the role.
    if (others.length > 0 && lowest(primaries) !== IP) await setRole('replica');
    return;
  }
  if (others.length === 0) {
    following = null;
    const members = await vms(APP);
    if (members?.[0]?.id === ID) await setRole('primary');
    return;
  }
  following = await ask(others[0]!);
}

net
  .createServer((sock) => {
    sock.end(`${role.toUpperCase()} ${ID}\n`);
    sock.on('error', () => undefined);
  })
  .listen({ host: '::', port: PORT });
serveStatus(PORT + 1, () => ({ id: ID, role, since, following }));

// Start as a replica in the coordinator too, so a stale `primary` from a
// previous life (the metadata outlives a stop) is cleared before anyone
// elects: until then this node answers STARTING.
async function boot(): Promise<void> {
  for (;;) {
    try {
      await setRole('replica');
      return;
    } catch (err) {
      process.stdout.write(`pg ${ID}: ${String(err)}; retrying\n`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
void boot().then(() => every(Number(values.interval), tick, (err) => process.stdout.write(`pg ${ID}: ${String(err)}\n`)));
process.on('SIGTERM', () => process.exit(0));
