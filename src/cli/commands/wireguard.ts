import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import QRCode from 'qrcode';
import { generateKeyPair } from '../../wg/keys.js';
import type { Peer } from '../../model/types.js';
import { PEER_NAME_MAX } from '../../validate.js';
import { ApiClient } from '../api.js';
import { label, parse, str } from '../args.js';
import { resolveConfig } from '../config.js';
import { CliError, UsageError } from '../errors.js';
import { printJson, printRecord, printTable } from '../output.js';

const USAGE = [
  'sixpn wireguard create ORG REGION NAME [FILE] [--network NET] [--app APP] [--force] [--qr]',
  '       sixpn wireguard list ORG | wireguard remove ORG NAME | wireguard status ORG NAME   [--json]',
].join('\n');

interface Created { peer: Peer; gateway: { host_id: number; public_key: string; endpoint: string; region: string }; dns: string; allowed_ips: string }
interface PeerStatus { latest_handshake: number; rx_bytes: number; tx_bytes: number; endpoint: string | null; reported_at: string }

export function peerName(s: string): string {
  label(s, 'peer name');
  if (s.length > PEER_NAME_MAX) throw new UsageError(`peer name ${JSON.stringify(s)} is longer than ${PEER_NAME_MAX} characters`);
  return s;
}

/** The wg-quick file (DESIGN.md "peer config shape"). */
export function renderPeerConfig(privateKey: string, c: Created): string {
  return [
    '[Interface]',
    `PrivateKey = ${privateKey}`,
    `Address = ${c.peer.address}/120`,
    `DNS = ${c.dns}`,
    '',
    '[Peer]',
    `PublicKey = ${c.gateway.public_key}`,
    `AllowedIPs = ${c.allowed_ips}`,
    `Endpoint = ${c.gateway.endpoint}`,
    'PersistentKeepalive = 15',
    '',
  ].join('\n');
}

function checkTarget(file: string, force: boolean): void {
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`directory ${dir} does not exist`);
  if (existsSync(file) && !force) throw new CliError(`${file} already exists (use --force to overwrite)`);
}

/**
 * Write the config so that the private key never sits in a file readable by
 * others (a temp file created 0600, then moved into place) and FILE is never
 * seen half-written. Without --force, link() refuses an existing FILE
 * atomically, even one that appeared since checkTarget.
 */
function writeSecretFile(file: string, text: string, force: boolean): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    if (force) renameSync(tmp, file);
    else linkSync(tmp, file);
  } finally {
    if (!force || existsSync(tmp)) { try { unlinkSync(tmp); } catch { /* already moved */ } }
  }
}

function ago(unixSeconds: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

export async function wireguardCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const counts: Record<string, { min: number; max: number }> = { create: { min: 3, max: 4 }, list: { min: 1, max: 1 }, remove: { min: 2, max: 2 }, status: { min: 2, max: 2 } };
  const count = counts[verb ?? ''];
  if (!count) throw new UsageError(`unknown wireguard command ${JSON.stringify(verb ?? '')}\nusage: ${USAGE}`);
  const p = parse(rest, { network: { type: 'string' }, app: { type: 'string' }, force: { type: 'boolean' }, qr: { type: 'boolean' } }, USAGE, count);
  const [orgArg, second, third, fourth] = p.positionals;
  const org = label(orgArg!, 'org');
  const api = new ApiClient(resolveConfig({ api: str(p, 'api'), token: str(p, 'token') }));
  const base = `/v1/orgs/${org}/peers`;
  switch (verb) {
    case 'create': {
      const region = label(second!, 'region');
      const name = peerName(third!);
      // The default directory is ours to make; a FILE the user named must be in a directory that exists.
      if (fourth === undefined) mkdirSync(resolve('peers'), { recursive: true, mode: 0o700 });
      const file = resolve(fourth ?? `peers/${name}.conf`);
      const force = !!p.values.force;
      checkTarget(file, force);
      const network = str(p, 'network');
      const app = str(p, 'app');
      const body = {
        name, region, ...(network ? { network: label(network, 'network') } : {}), ...(app ? { app: label(app, 'app') } : {}),
      };
      // The private key is made here and only ever written to FILE: the API sees the public half.
      const keys = generateKeyPair();
      const created = await api.post<Created>(base, { ...body, public_key: keys.publicKey });
      const text = renderPeerConfig(keys.privateKey, created);
      try {
        writeSecretFile(file, text, force);
      } catch (err) {
        // Nothing half-created: no registered peer without its file.
        const undone = await api.delete(`${base}/${name}`).then(() => true, () => false);
        const e = err as NodeJS.ErrnoException;
        throw new CliError(`cannot write ${file}: ${e.code ?? e.message}; ${undone ? 'peer not created' : `peer ${name} is registered but has no file: remove it with \`sixpn wireguard remove ${org} ${name}\``}`);
      }
      const qr = p.values.qr ? await QRCode.toString(text, { type: 'terminal', small: true }) : null;
      if (p.values.json) printJson({ ...created, file, ...(qr ? { qr } : {}) });
      else {
        printRecord({ peer: name, address: created.peer.address, gateway: `${created.gateway.endpoint} (${created.gateway.region})`, dns: created.dns, ...(created.peer.app ? { app: created.peer.app } : {}), file });
        process.stdout.write(`\nbring it up with: wg-quick up ${file}\n`);
        if (qr) process.stdout.write(qr);
      }
      return 0;
    }
    case 'list': {
      const r = await api.get<{ peers: (Peer & { gateway: string | null })[] }>(base);
      if (p.values.json) printJson(r.peers);
      else printTable(r.peers.map((x) => ({ ...x, created: x.created_at })), ['name', 'region', 'address', 'gateway', 'app', 'created']);
      return 0;
    }
    case 'remove': {
      const r = await api.delete<{ peer: Peer }>(`${base}/${peerName(second!)}`);
      if (p.values.json) printJson(r.peer);
      else process.stdout.write(`removed peer ${r.peer.name} (${r.peer.address})\n`);
      return 0;
    }
    case 'status': {
      const r = await api.get<{ peer: Peer; status: PeerStatus | null }>(`${base}/${peerName(second!)}`);
      if (p.values.json) { printJson(r); return 0; }
      const s = r.status;
      printRecord({
        peer: r.peer.name, address: r.peer.address, region: r.peer.region,
        'latest handshake': !s ? '-' : s.latest_handshake > 0 ? `${new Date(s.latest_handshake * 1000).toISOString()} (${ago(s.latest_handshake)})` : 'never',
        // The gateway's counters: what it received from the peer and sent to it.
        'from peer': s ? `${s.rx_bytes} B` : '-', 'to peer': s ? `${s.tx_bytes} B` : '-', endpoint: s?.endpoint ?? '-',
        reported: s ? `${s.reported_at} by the gateway` : 'never (the gateway has not reported this peer yet)',
      });
      return 0;
    }
  }
  return 0;
}
