// Cluster discovery through .internal DNS, as a real member would do it:
// the system resolver (the machine's resolv.conf points at fdaa:N:N::3).
import { promises as dns } from 'node:dns';

export interface Instance { id: string; app: string; ip: string; region: string }

/** Parse `_instances.internal` TXT: `instance=<id>,app=<app>,ip=<addr>,region=<r>` items joined by `;`. */
export function parseInstances(txt: string[][]): Instance[] {
  const joined = txt.map((chunks) => chunks.join('')).join(';');
  const out: Instance[] = [];
  for (const item of joined.split(';')) {
    const kv = Object.fromEntries(item.split(',').map((p) => { const i = p.indexOf('='); return [p.slice(0, i).trim(), p.slice(i + 1).trim()]; }));
    if (kv.instance && kv.app && kv.ip) out.push({ id: kv.instance, app: kv.app, ip: kv.ip, region: kv.region ?? '' });
  }
  return out;
}

export async function instances(apps: readonly string[]): Promise<Instance[]> {
  try {
    return parseInstances(await dns.resolveTxt('_instances.internal')).filter((i) => apps.includes(i.app));
  } catch {
    return [];
  }
}

export async function addresses(name: string): Promise<string[]> {
  try {
    return await dns.resolve6(name);
  } catch {
    return [];
  }
}
