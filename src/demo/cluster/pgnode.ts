// A database-shaped node: one of the app's machines is the primary. The
// primary marks itself `role=primary` through the host's machine API; clients
// dial `primary.role.kv._metadata.<app>.internal`. When no primary answers, the
// started machine with the lowest id promotes itself.
import http from 'node:http';
import net from 'node:net';
import { promises as dns } from 'node:dns';
import { parseArgs } from 'node:util';
import { addresses } from './discover.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5432' }, interval: { type: 'string', default: '300' } } });
const PORT = Number(values.port);
const APP = process.env.SIXPN_APP_NAME ?? 'pg';
const ID = process.env.SIXPN_MACHINE_ID ?? '';
const IP = process.env.SIXPN_PRIVATE_IP ?? '';
// The machine API lives on the network's ::3 address, like DNS.
const API = `http://[${IP.split(':').slice(0, 3).join(':')}::3]`;

let role = 'replica';

async function machineApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${API}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function setRole(r: string): Promise<void> {
  await machineApi('PUT', '/v1/self/metadata/role', { value: r });
  if (r !== role) process.stdout.write(`pg ${ID}: role ${role} -> ${r}\n`);
  role = r;
}

async function startedMembers(): Promise<string[]> {
  try {
    const txt = (await dns.resolveTxt(`vms.${APP}.internal`)).map((c) => c.join('')).join(',');
    return txt.split(',').map((s) => s.trim().split(' ')[0]!).filter(Boolean).sort();
  } catch {
    return [];
  }
}

async function tick(): Promise<void> {
  const primaries = await addresses(`primary.role.kv._metadata.${APP}.internal`);
  if (role === 'primary') {
    // Another primary took over while this one was away: step down.
    if (primaries.length > 0 && !primaries.includes(IP)) await setRole('replica');
    return;
  }
  if (primaries.length === 0) {
    const members = await startedMembers();
    if (members[0] === ID) await setRole('primary');
  }
}

net.createServer((sock) => { sock.end(`${role.toUpperCase()} ${ID}\n`); sock.on('error', () => undefined); })
  .listen({ host: '::', port: PORT });
http.createServer((_req, res) => res.end(JSON.stringify({ id: ID, role }))).listen({ host: '::', port: PORT + 1 });

// Start as a replica in the coordinator too, so a stale `primary` from a previous life is cleared.
setRole('replica').catch((err: unknown) => process.stdout.write(`pg ${ID}: ${String(err)}\n`)).finally(() => {
  setInterval(() => void tick().catch((err: unknown) => process.stdout.write(`pg ${ID}: ${String(err)}\n`)), Number(values.interval));
});
process.on('SIGTERM', () => process.exit(0));
