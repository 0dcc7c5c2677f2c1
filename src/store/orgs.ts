// Orgs: a name and the id of the org's default network (created with it).
import { conflict, notFound } from '../errors.js';
import type { Org } from '../model/types.js';
import { nextId } from './sequences.js';
import type { Tx } from './sql.js';

interface OrgRow {
  name: string;
  network_id: number | string;
  created_at: string;
}

const toOrg = (r: OrgRow): Org => ({ name: r.name, network_id: Number(r.network_id), created_at: r.created_at });

export async function orgExists(tx: Tx, name: string): Promise<boolean> {
  return !!(await tx.get('SELECT 1 FROM orgs WHERE name = ?', [name]));
}

/** `not_found` unless the org exists. */
export async function requireOrg(tx: Tx, name: string): Promise<void> {
  if (!(await orgExists(tx, name))) throw notFound('org', name);
}

export async function findOrg(tx: Tx, name: string): Promise<Org | null> {
  const r = await tx.get<OrgRow>('SELECT * FROM orgs WHERE name = ?', [name]);
  return r ? toOrg(r) : null;
}

export async function getOrg(tx: Tx, name: string): Promise<Org> {
  const org = await findOrg(tx, name);
  if (!org) throw notFound('org', name);
  return org;
}

export async function listOrgs(tx: Tx): Promise<Org[]> {
  return (await tx.all<OrgRow>('SELECT * FROM orgs ORDER BY name')).map(toOrg);
}

/** One page of listOrgs, after the key `after` (keyset paging for a streamed snapshot). */
export async function orgsPage(tx: Tx, after: string | null, limit: number): Promise<Org[]> {
  return (await tx.all<OrgRow>('SELECT * FROM orgs WHERE name > ? ORDER BY name LIMIT ?', [after ?? '', limit])).map(toOrg);
}

/** Insert a new org with a freshly allocated network id (the caller inserts that network). */
export async function insertOrg(tx: Tx, name: string, at: string): Promise<Org> {
  if (await orgExists(tx, name)) throw conflict('org', name);
  const org: Org = { name, network_id: await nextId(tx, 'network'), created_at: at };
  await tx.run('INSERT INTO orgs (name, network_id, created_at) VALUES (?, ?, ?)', [org.name, org.network_id, at]);
  return org;
}
