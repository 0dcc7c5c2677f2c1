import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import QRCode from 'qrcode';
import { generateKeyPair } from '../../wg/keys.js';
import { peerAnswerProblem, renderPeerConfig } from '../../wg/quick.js';
import { PEER_NAME_MAX } from '../../validate.js';
import { bool, client, json, str } from '../ctx.js';
import { CliError, UsageError } from '../errors.js';
import { label, ttl } from '../flags.js';
import { printJson, printRecord, printTable } from '../output.js';
import type { Context } from '../spec.js';

export function peerName(s: string): string {
  label(s, 'peer name');
  if (s.length > PEER_NAME_MAX) throw new UsageError(`peer name ${JSON.stringify(s)} is longer than ${PEER_NAME_MAX} characters`);
  return s;
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
    if (!force || existsSync(tmp)) {
      try {
        unlinkSync(tmp);
      } catch {
        /* already moved */
      }
    }
  }
}

function ago(unixSeconds: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

export async function create(ctx: Context): Promise<number> {
  const [orgArg, regionArg, nameArg, fileArg] = ctx.args;
  const org = label(orgArg!, 'org');
  const region = label(regionArg!, 'region');
  const name = peerName(nameArg!);
  const network = str(ctx.flags, 'network');
  const app = str(ctx.flags, 'app');
  const ttlText = str(ctx.flags, 'ttl'); // an ephemeral peer: the coordinator removes it when it expires
  const body = {
    name,
    region,
    ...(network ? { network: label(network, 'network') } : {}),
    ...(app ? { app: label(app, 'app') } : {}),
    ...(ttlText === undefined ? {} : { ttl_seconds: ttl(ttlText) }),
  };
  const api = client(ctx);
  // The default directory is ours to make; a FILE the user named must be in a directory that exists.
  if (fileArg === undefined) mkdirSync(resolve('peers'), { recursive: true, mode: 0o700 });
  const file = resolve(fileArg ?? `peers/${name}.conf`);
  const force = bool(ctx.flags, 'force');
  checkTarget(file, force);
  // The private key is made here and only ever written to FILE: the API sees the public half.
  const keys = generateKeyPair();
  const created = await api.createPeer(org, { ...body, public_key: keys.publicKey });
  // wg-quick runs the file as root: a field of a rogue answer must not add a line.
  const problem = peerAnswerProblem(created);
  if (problem) {
    const undone = await api.removePeer(org, name).then(
      () => true,
      () => false,
    );
    throw new CliError(
      `the API's answer is not a valid peer config, no file written: ${problem}${undone ? '' : `; peer ${name} may be registered: remove it with \`sixpn wireguard remove ${org} ${name}\``}`,
    );
  }
  const text = renderPeerConfig(keys.privateKey, created);
  try {
    writeSecretFile(file, text, force);
  } catch (err) {
    // Nothing half-created: no registered peer without its file.
    const undone = await api.removePeer(org, name).then(
      () => true,
      () => false,
    );
    const e = err as NodeJS.ErrnoException;
    throw new CliError(
      `cannot write ${file}: ${e.code ?? e.message}; ${undone ? 'peer not created' : `peer ${name} is registered but has no file: remove it with \`sixpn wireguard remove ${org} ${name}\``}`,
    );
  }
  const qr = bool(ctx.flags, 'qr') ? await QRCode.toString(text, { type: 'terminal', small: true }) : null;
  if (json(ctx)) printJson({ ...created, file, ...(qr ? { qr } : {}) });
  else {
    printRecord({
      peer: name,
      address: created.peer.address,
      gateway: `${created.gateway.endpoint} (${created.gateway.region})`,
      dns: created.dns,
      ...(created.peer.app ? { app: created.peer.app } : {}),
      ...(created.peer.expires_at ? { expires: created.peer.expires_at } : {}),
      file,
    });
    process.stdout.write(`\nbring it up with: wg-quick up ${file}\n`);
    if (qr) process.stdout.write(qr);
  }
  return 0;
}

export async function list(ctx: Context): Promise<number> {
  const r = await client(ctx).listPeers(label(ctx.args[0]!, 'org'));
  if (json(ctx)) printJson(r.peers);
  else
    printTable(
      r.peers.map((x) => ({ ...x, created: x.created_at })),
      ['name', 'region', 'address', 'gateway', 'app', 'created'],
    );
  return 0;
}

export async function remove(ctx: Context): Promise<number> {
  const org = label(ctx.args[0]!, 'org');
  const r = await client(ctx).removePeer(org, peerName(ctx.args[1]!));
  if (json(ctx)) printJson(r.peer);
  else process.stdout.write(`removed peer ${r.peer.name} (${r.peer.address})\n`);
  return 0;
}

export async function status(ctx: Context): Promise<number> {
  const org = label(ctx.args[0]!, 'org');
  const r = await client(ctx).getPeer(org, peerName(ctx.args[1]!));
  if (json(ctx)) {
    printJson(r);
    return 0;
  }
  const s = r.status;
  printRecord({
    peer: r.peer.name,
    address: r.peer.address,
    region: r.peer.region,
    'latest handshake': !s ? '-' : s.latest_handshake > 0 ? `${new Date(s.latest_handshake * 1000).toISOString()} (${ago(s.latest_handshake)})` : 'never',
    // The gateway's counters: what it received from the peer and sent to it.
    'from peer': s ? `${s.rx_bytes} B` : '-',
    'to peer': s ? `${s.tx_bytes} B` : '-',
    endpoint: s?.endpoint ?? '-',
    reported: s ? `${s.reported_at} by the gateway` : 'never (the gateway has not reported this peer yet)',
  });
  return 0;
}
