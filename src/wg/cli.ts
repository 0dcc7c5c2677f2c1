// The `wg` tool, run with execa: the only module that invokes it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { PeerChange } from './diff.js';
import { batchArgs } from './diff.js';
import type { WgDump } from './dump.js';
import { parseDump } from './dump.js';

/** Peers per `wg set` call: one call per ~250 peers keeps argv small (≈30 KB). */
export const DEFAULT_BATCH = 250;

/** A `wg` call that takes longer is killed and fails: a stuck device must not stall the agent. */
export const WG_TIMEOUT_MS = 10_000;

export interface DeviceSettings {
  privateKey?: string;
  listenPort?: number;
}

export class WgTool {
  constructor(
    private readonly log: Logger = silentLogger,
    private readonly bin = 'wg',
    private readonly timeoutMs = WG_TIMEOUT_MS,
  ) {}

  /** `wg ARGS`, killed after the timeout (execa's error then says "timed out after N milliseconds"). */
  private run(args: string[], reject = true): ReturnType<typeof execa> {
    return execa(this.bin, args, { reject, timeout: this.timeoutMs, stdin: 'ignore' });
  }

  /** The device as `wg show <iface> dump` reports it; null when there is no such device. */
  async show(iface: string): Promise<WgDump | null> {
    const r = await this.run(['show', iface, 'dump'], false);
    // Timed out is not "no device": the caller would recreate a device that is there.
    if (r.timedOut) throw new Error(`wg show ${iface} dump timed out after ${this.timeoutMs} ms`);
    if (r.exitCode !== 0) return null;
    return parseDump(String(r.stdout));
  }

  async interfaces(): Promise<string[]> {
    const r = await this.run(['show', 'interfaces']);
    return String(r.stdout).split(/\s+/).filter(Boolean);
  }

  async setDevice(iface: string, s: DeviceSettings): Promise<void> {
    const args = ['set', iface];
    if (s.listenPort !== undefined) args.push('listen-port', String(s.listenPort));
    if (s.privateKey === undefined) {
      if (args.length === 2) return;
      await this.run(args);
    } else {
      // `wg` reads keys from a file, never argv (world-readable in /proc); a
      // pipe will not do (Node's are sockets, which /dev/stdin cannot open).
      const dir = mkdtempSync(join(tmpdir(), 'sixpn-wg-'));
      try {
        const file = join(dir, 'key');
        writeFileSync(file, `${s.privateKey}\n`, { mode: 0o600 });
        await this.run([...args, 'private-key', file]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    this.log.debug({ iface, listenPort: s.listenPort, key: s.privateKey !== undefined }, 'wg device set');
  }

  /** Apply peer changes in batches; returns the number of `wg set` calls made. */
  async applyPeers(iface: string, changes: readonly PeerChange[], batch = DEFAULT_BATCH): Promise<number> {
    const batches = batchArgs(changes, batch);
    const t0 = performance.now();
    for (const args of batches) await this.run(['set', iface, ...args]);
    if (changes.length) {
      const count = (k: PeerChange['kind']): number => changes.filter((c) => c.kind === k).length;
      this.log.info(
        { iface, add: count('add'), update: count('update'), remove: count('remove'), calls: batches.length, ms: +(performance.now() - t0).toFixed(1) },
        'wg peers changed',
      );
    }
    return batches.length;
  }
}
