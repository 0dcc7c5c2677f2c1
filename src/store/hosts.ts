// Hosts: enrolled WireGuard hosts, some of them gateways for developer peers.
// `machine_count` (live machines) is kept here for placement.
import { AppError, notFound } from '../errors.js';
import type { Candidate } from '../addr/placement.js';
import type { Host } from '../model/types.js';
import { requireRegion } from './regions.js';
import { nextId } from './sequences.js';
import { now, type Tx } from './sql.js';

interface HostRow { id: number | string; region: string; endpoint: string; public_key: string; gateway: number | string; version: string | null; created_at: string }

const toHost = (r: HostRow): Host => ({
  id: Number(r.id), region: r.region, endpoint: r.endpoint, public_key: r.public_key, gateway: Number(r.gateway) === 1, version: r.version ?? null, created_at: r.created_at,
});

export async function enrollHost(tx: Tx, input: { region: string; endpoint: string; public_key: string; gateway: boolean; version?: string | null }): Promise<Host> {
  await requireRegion(tx, input.region);
  if (await tx.get('SELECT 1 FROM hosts WHERE public_key = ?', [input.public_key])) {
    throw new AppError('conflict', 'a host with this public key is already enrolled');
  }
  const id = await nextId(tx, 'host');
  const host: Host = {
    id, region: input.region, endpoint: input.endpoint, public_key: input.public_key, gateway: input.gateway, version: input.version ?? null, created_at: now(),
  };
  await tx.run('INSERT INTO hosts (id, region, endpoint, public_key, gateway, version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [id, host.region, host.endpoint, host.public_key, host.gateway ? 1 : 0, host.version ?? null, host.created_at]);
  return host;
}

export interface HostPatch { endpoint?: string; gateway?: boolean; version?: string }

/** `changed` is false when the patch repeats what is stored (an agent restarting as it was): no revision then. */
export async function updateHost(tx: Tx, id: number, patch: HostPatch): Promise<{ host: Host; changed: boolean }> {
  const was = await requireHost(tx, id);
  const host = { ...was, ...patch };
  if (host.endpoint === was.endpoint && host.gateway === was.gateway && host.version === was.version) return { host: was, changed: false };
  await tx.run('UPDATE hosts SET endpoint = ?, gateway = ?, version = ? WHERE id = ?', [host.endpoint, host.gateway ? 1 : 0, host.version ?? null, id]);
  return { host, changed: true };
}

export async function requireHost(tx: Tx, id: number): Promise<Host> {
  const r = await tx.get<HostRow>('SELECT * FROM hosts WHERE id = ?', [id]);
  if (!r) throw notFound('host', id);
  return toHost(r);
}

export async function listHosts(tx: Tx): Promise<Host[]> {
  return (await tx.all<HostRow>('SELECT * FROM hosts ORDER BY id')).map(toHost);
}

export async function listGateways(tx: Tx): Promise<Host[]> {
  return (await tx.all<HostRow>('SELECT * FROM hosts WHERE gateway = 1 ORDER BY id')).map(toHost);
}

/** Hosts of a region with their live-machine counts, for `placeMachine`. */
export async function machineHostCandidates(tx: Tx, region: string): Promise<Candidate[]> {
  const rows = await tx.all<{ id: number | string; machine_count: number | string }>(
    'SELECT id, machine_count FROM hosts WHERE region = ? ORDER BY machine_count, id', [region]);
  return rows.map((r) => ({ id: Number(r.id), region, load: Number(r.machine_count) }));
}

/** A machine was placed on (+1) or destroyed from (-1) the host. */
export async function countMachine(tx: Tx, hostId: number, delta: 1 | -1): Promise<void> {
  await tx.run(`UPDATE hosts SET machine_count = machine_count ${delta > 0 ? '+' : '-'} 1 WHERE id = ?`, [hostId]);
}
