import { existsSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import QRCode from 'qrcode';
import { generateKeyPair } from '../../crypto/x25519.js';
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
      const file = resolve(fourth ?? `peers/${name}.conf`);
      checkTarget(file, !!p.values.force);
      const network = str(p, 'network');
      const app = str(p, 'app');
      // The private key is made here and only ever written to FILE.
      const keys = generateKeyPair();
      const created = await api.post<Created>(base, {
        name, region, public_key: keys.publicKey,
        ...(network ? { network: label(network, 'network') } : {}), ...(app ? { app: label(app, 'app') } : {}),
      });
      const text = renderPeerConfig(keys.privateKey, created);
      try {
        writeFileSync(file, text, { mode: 0o600 });
        chmodSync(file, 0o600);
      } catch (err) {
        // Nothing half-created: no registered peer without its file.
        await api.delete(`${base}/${name}`).catch(() => undefined);
        throw new CliError(`cannot write ${file}: ${(err as Error).message}; peer not created`);
      }
      if (p.values.json) printJson({ ...created, file });
      else {
        printRecord({ peer: name, address: created.peer.address, gateway: `${created.gateway.endpoint} (${created.gateway.region})`, dns: created.dns, file });
        process.stdout.write(`\nbring it up with: wg-quick up ${file}\n`);
      }
      if (p.values.qr) process.stdout.write(await QRCode.toString(text, { type: 'terminal', small: true }));
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
        peer: r.peer.name, address: r.peer.address,
        'latest handshake': s && s.latest_handshake > 0 ? new Date(s.latest_handshake * 1000).toISOString() : 'never',
        received: s ? `${s.rx_bytes} B` : '-', sent: s ? `${s.tx_bytes} B` : '-', endpoint: s?.endpoint ?? '-', reported: s?.reported_at ?? 'never',
      });
      return 0;
    }
  }
  return 0;
}
