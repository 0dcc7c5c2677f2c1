// Networks: an org's default network and its custom ones, each a /48.
import { conflict, notFound } from '../errors.js';
import type { Network } from '../model/types.js';
import { nextId } from './sequences.js';
import type { Tx } from './sql.js';

interface NetworkRow {
  id: number | string;
  org: string;
  name: string;
  created_at: string;
}

const toNetwork = (r: NetworkRow): Network => ({ id: Number(r.id), org: r.org, name: r.name, created_at: r.created_at });

/** Insert a network; `id` is allocated unless given (an org's default network takes the org's). */
export async function insertNetwork(tx: Tx, n: { org: string; name: string; created_at: string; id?: number }): Promise<Network> {
  const network: Network = { id: n.id ?? (await nextId(tx, 'network')), org: n.org, name: n.name, created_at: n.created_at };
  await tx.run('INSERT INTO networks (id, org, name, created_at) VALUES (?, ?, ?, ?)', [network.id, network.org, network.name, network.created_at]);
  return network;
}

/** A custom network of an (existing) org; `conflict` when the name is taken. */
export async function createNetwork(tx: Tx, org: string, name: string, at: string): Promise<Network> {
  if (await findNetwork(tx, org, name)) throw conflict('network', `${org}/${name}`);
  return insertNetwork(tx, { org, name, created_at: at });
}

export async function findNetwork(tx: Tx, org: string, name: string): Promise<Network | null> {
  const r = await tx.get<NetworkRow>('SELECT * FROM networks WHERE org = ? AND name = ?', [org, name]);
  return r ? toNetwork(r) : null;
}

export async function requireNetwork(tx: Tx, org: string, name: string): Promise<Network> {
  const n = await findNetwork(tx, org, name);
  if (!n) throw notFound('network', `${org}/${name}`);
  return n;
}

export async function networkById(tx: Tx, id: number): Promise<Network | null> {
  const r = await tx.get<NetworkRow>('SELECT * FROM networks WHERE id = ?', [id]);
  return r ? toNetwork(r) : null;
}

/** One org's networks, or every network when `org` is undefined. */
export async function listNetworks(tx: Tx, org?: string): Promise<Network[]> {
  return (
    org === undefined
      ? await tx.all<NetworkRow>('SELECT * FROM networks ORDER BY id')
      : await tx.all<NetworkRow>('SELECT * FROM networks WHERE org = ? ORDER BY id', [org])
  ).map(toNetwork);
}

/** One page of every network, after the id `after` (keyset paging for a streamed snapshot). */
export async function networksPage(tx: Tx, after: number | null, limit: number): Promise<Network[]> {
  return (await tx.all<NetworkRow>('SELECT * FROM networks WHERE id > ? ORDER BY id LIMIT ?', [after ?? -1, limit])).map(toNetwork);
}
