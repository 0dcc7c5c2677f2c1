// Apps: named groups of machines, each in one network of its org.
import { conflict, notFound } from '../errors.js';
import type { App, Network } from '../model/types.js';
import { findNetwork, insertNetwork } from './networks.js';
import { now, type Tx } from './sql.js';

interface AppRow {
  name: string;
  org: string;
  network_id: number | string;
  created_at: string;
}

const toApp = (r: AppRow): App => ({ name: r.name, org: r.org, network_id: Number(r.network_id), created_at: r.created_at });

/**
 * An app of an (existing) org in its default network, or in a custom one,
 * created on first use (returned as `network`, else null).
 */
export async function createApp(tx: Tx, input: { name: string; org: string; network?: string }): Promise<{ app: App; network: Network | null }> {
  if (await findApp(tx, input.name)) throw conflict('app', input.name);
  const netName = input.network ?? 'default';
  let created: Network | null = null;
  let net = await findNetwork(tx, input.org, netName);
  if (!net) net = created = await insertNetwork(tx, { org: input.org, name: netName, created_at: now() });
  const app: App = { name: input.name, org: input.org, network_id: net.id, created_at: now() };
  await tx.run('INSERT INTO apps (name, org, network_id, created_at) VALUES (?, ?, ?, ?)', [app.name, app.org, app.network_id, app.created_at]);
  return { app, network: created };
}

export async function findApp(tx: Tx, name: string): Promise<App | null> {
  const r = await tx.get<AppRow>('SELECT * FROM apps WHERE name = ?', [name]);
  return r ? toApp(r) : null;
}

export async function requireApp(tx: Tx, name: string): Promise<App> {
  const app = await findApp(tx, name);
  if (!app) throw notFound('app', name);
  return app;
}

/** One org's apps, or every app when `org` is undefined. */
export async function listApps(tx: Tx, org?: string): Promise<App[]> {
  return (
    org === undefined ? await tx.all<AppRow>('SELECT * FROM apps ORDER BY name') : await tx.all<AppRow>('SELECT * FROM apps WHERE org = ? ORDER BY name', [org])
  ).map(toApp);
}

/** One page of every app, after the name `after` (keyset paging for a streamed snapshot). */
export async function appsPage(tx: Tx, after: string | null, limit: number): Promise<App[]> {
  return (await tx.all<AppRow>('SELECT * FROM apps WHERE name > ? ORDER BY name LIMIT ?', [after ?? '', limit])).map(toApp);
}
