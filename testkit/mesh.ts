// Test-side helpers around MeshLab (lab/meshlab.ts): skip unless the
// suite can build namespaces, and small assertions on pings and counters.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import type { WgDump } from '../src/wg/dump.js';

/** Why end-to-end tests cannot run here, or null when they can. */
export function e2eUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'wg', 'wireguard-go', 'nft', 'dig', 'ping', 'nsenter', 'bwrap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool}`;
    }
  }
  return null;
}

/** Packet loss percentage from ping's summary line. */
export function pingLoss(output: string): number {
  const m = /([\d.]+)% packet loss/.exec(output);
  return m ? Number(m[1]) : 100;
}

/** Bytes each way per peer key. */
export function transfer(d: WgDump): Map<string, { rx: number; tx: number; handshake: number }> {
  return new Map(d.peers.map((p) => [p.publicKey, { rx: p.rxBytes, tx: p.txBytes, handshake: p.latestHandshake }]));
}

/** Namespaces whose name contains `needle` (leak checks after a suite). */
export function namespacesLike(needle: string): string[] {
  if (!existsSync('/var/run/netns')) return [];
  return readdirSync('/var/run/netns').filter((n) => n.includes(needle));
}
