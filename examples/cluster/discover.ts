// Cluster discovery through .internal DNS, as a real member would do it:
// the system resolver (the machine's resolv.conf points at fdaa:N:N::3).
import { promises as dns } from 'node:dns';

export interface Instance {
  id: string;
  app: string;
  ip: string;
  region: string;
}

/** Parse `_instances.internal` TXT: `instance=<id>,app=<app>,ip=<addr>,region=<r>` items joined by `;`. */
export function parseInstances(txt: string[][]): Instance[] {
  const joined = txt.map((chunks) => chunks.join('')).join(';');
  const out: Instance[] = [];
  for (const item of joined.split(';')) {
    const kv = Object.fromEntries(
      item.split(',').map((p) => {
        const i = p.indexOf('=');
        return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
      }),
    );
    if (kv.instance && kv.app && kv.ip) out.push({ id: kv.instance, app: kv.app, ip: kv.ip, region: kv.region ?? '' });
  }
  return out;
}

/** Parse `vms.<app>.internal` TXT: `<id> <region>` items joined by `,`. */
export function parseVms(txt: string[][]): { id: string; region: string }[] {
  return txt
    .map((chunks) => chunks.join(''))
    .join(',')
    .split(',')
    .map((s) => s.trim().split(/\s+/))
    .filter((p) => p[0])
    .map(([id, region]) => ({ id: id!, region: region ?? '' }));
}

/** "The name has no records" (an answer) as opposed to "the resolver failed" (no answer). */
function empty(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === dns.NOTFOUND || code === dns.NODATA;
}

/**
 * Instances of `apps`, or null when DNS did not answer: a member must not
 * take a resolver timeout for "everyone left".
 */
export async function instances(apps: readonly string[]): Promise<Instance[] | null> {
  try {
    return parseInstances(await dns.resolveTxt('_instances.internal')).filter((i) => apps.includes(i.app));
  } catch (err) {
    return empty(err) ? [] : null;
  }
}

/** Started machines of `app` (ids sorted), or null when DNS did not answer. */
export async function vms(app: string): Promise<{ id: string; region: string }[] | null> {
  try {
    return parseVms(await dns.resolveTxt(`vms.${app}.internal`)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  } catch (err) {
    return empty(err) ? [] : null;
  }
}

/** AAAA of `name`; [] when there are none, null when DNS did not answer. */
export async function addresses(name: string): Promise<string[] | null> {
  try {
    return await dns.resolve6(name);
  } catch (err) {
    return empty(err) ? [] : null;
  }
}

/** The host's machine API (http://[fdaa:N:N::3]), from the machine's environment. */
export function machineApiBase(env: NodeJS.ProcessEnv = process.env): string {
  const dnsIp = env.SIXPN_DNS_IP ?? `${(env.SIXPN_PRIVATE_IP ?? '').split(':').slice(0, 3).join(':')}::3`;
  return `http://[${dnsIp}]`;
}
