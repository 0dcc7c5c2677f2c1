// The fleet bench's starting state, written straight into the store before
// the coordinator starts (faster than the API, and the same rows): orgs with
// one app each, one host per simulated replica (with its host token and the
// WireGuard key pair it plays), and a preload of machines.
import { generateKeyPair } from '../src/wg/keys.js';
import { REGIONS } from '../src/model/regions.js';
import { openStore } from '../src/coordinator/run.js';
import type { SimHostSetup } from './fleet-protocol.js';

export interface Seed {
  admin: string;
  hosts: SimHostSetup[];
  apps: string[];
  regions: string[];
  /** preloaded machine ids */
  machines: string[];
}

export const benchRegions = (): string[] => REGIONS.filter((r) => r.code !== 'local').map((r) => r.code);

/** Run `n` calls of `fn`, `width` at a time (concurrent writes share one group commit). */
async function batched<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

export async function seedFleet(target: { dataDir?: string; dbUrl?: string }, o: { replicas: number; orgs: number; machines: number }): Promise<Seed> {
  // A big preload takes longer than the host timeout: the hosts must still count as reachable for placement.
  const store = await openStore({ ...target, hostTimeoutMs: 86_400_000 });
  try {
    // Only regions that have a host: a machine placed in an empty region is refused.
    const regions = benchRegions().slice(0, Math.max(1, o.replicas));
    const { token: admin } = await store.createToken({ scope: 'admin' });
    const apps = await batched(o.orgs, 200, async (i) => {
      await store.createOrg(`org-${i}`);
      return (await store.createApp({ name: `app-${i}`, org: `org-${i}` })).name;
    });
    const hosts = await batched(o.replicas, 200, async (i) => {
      const keys = generateKeyPair();
      const { host, credential: token } = await store.enrollHost({
        region: regions[i % regions.length]!,
        endpoint: `198.51.100.${1 + (i % 250)}:${51820 + i}`,
        public_key: keys.publicKey,
        gateway: false,
      });
      return { hostId: host.id, token, privateKey: keys.privateKey };
    });
    const machines = await batched(
      o.machines,
      500,
      async (i) => (await store.createMachine({ app: apps[i % apps.length]!, region: regions[i % regions.length]! })).id,
    );
    return { admin, hosts, apps, regions, machines };
  } finally {
    await store.close();
  }
}
