// One host uid (and gid of the same number) per machine, for its sandboxed
// command: machines on one host cannot read each other's work dirs or signal
// each other. Picked from a hash of the machine id, so two agents on one box
// (the demo, the tests) almost never pick the same one, and kept in the state
// dir, so a machine keeps its uid (and its files) across restarts.
import { createHash } from 'node:crypto';
import { renameSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { StateDir } from './statedir.js';

/** 2^30 .. 2^31-1: far above login users (1000+), systemd's dynamic users (61184+) and the usual subuid ranges. */
export const SANDBOX_UID_BASE = 0x4000_0000;
export const SANDBOX_UID_SPAN = 0x4000_0000;
const FILE = 'sandbox-uids.json';

/** The uid a machine id hashes to, before collision probing. */
export function hashedUid(machineId: string): number {
  const h = createHash('sha256').update(machineId).digest().readUInt32BE(0);
  return SANDBOX_UID_BASE + (h % SANDBOX_UID_SPAN);
}

export class SandboxUids {
  private readonly byMachine = new Map<string, number>();

  constructor(
    private readonly state: StateDir,
    log: Logger,
  ) {
    const text = state.loadText(FILE);
    if (text === null) return;
    let saved: unknown;
    try {
      saved = JSON.parse(text);
    } catch {
      // Set aside, start over: a work dir whose owner changes is chowned back at its next start.
      renameSync(state.path(FILE), state.path(`${FILE}.corrupt`));
      log.warn({ file: state.path(FILE) }, 'sandbox uid table is corrupt; set aside, uids are allocated again');
      return;
    }
    for (const [id, uid] of Object.entries(saved as Record<string, unknown>)) {
      if (Number.isInteger(uid) && (uid as number) >= SANDBOX_UID_BASE && (uid as number) < SANDBOX_UID_BASE + SANDBOX_UID_SPAN)
        this.byMachine.set(id, uid as number);
    }
  }

  /** The machine's uid, allocated (and saved) on first use. */
  uidOf(machineId: string): number {
    const known = this.byMachine.get(machineId);
    if (known !== undefined) return known;
    const taken = new Set(this.byMachine.values());
    let uid = hashedUid(machineId);
    while (taken.has(uid)) uid = SANDBOX_UID_BASE + ((uid - SANDBOX_UID_BASE + 1) % SANDBOX_UID_SPAN);
    this.byMachine.set(machineId, uid);
    this.state.saveText(FILE, `${JSON.stringify(Object.fromEntries(this.byMachine), null, 2)}\n`);
    return uid;
  }
}
