// The agent's state dir: its identity (private key 0600, never sent
// anywhere), the last desired state it saw (so a restart with the
// coordinator down still converges), and the attachments it owns.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { State } from '../model/types.js';

export interface Identity {
  hostId: number;
  publicKey: string;
  privateKey: string;
  credential: string;
}

/** What the agent persists about a machine it attached. */
export interface AttachmentRecord {
  machineId: string;
  driver: string;
  hostIface: string;
  nsName: string;
  generation: string;
  /** the machine's command, while it runs */
  pid: number | null;
  /** /proc/<pid>/stat start time, against pid reuse */
  pidStart: string | null;
  /** its command ended (reported stopped) */
  commandDone: boolean;
}

const DESIRED = 'desired-state.json';
const DESIRED_GOOD = 'desired-state.good.json';
const STATE_LISTS = ['regions', 'orgs', 'networks', 'apps', 'hosts', 'machines', 'peers'] as const;

/** The shape saveDesired writes (a truncated or foreign file parses to something else, or not at all). */
function isSavedState(v: unknown): v is { rev: number; state: State } {
  if (!v || typeof v !== 'object') return false;
  const { rev, state } = v as { rev?: unknown; state?: Record<string, unknown> };
  return Number.isSafeInteger(rev) && (rev as number) >= 0 && !!state && typeof state === 'object' && STATE_LISTS.every((k) => Array.isArray(state[k]));
}

export class StateDir {
  private attachmentsText: string | null = null;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'machines'), { recursive: true, mode: 0o700 });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Temp file, fsync, rename: a crash never leaves half a file (src/atomic-file.ts). */
  private writeAtomic(name: string, text: string, mode = 0o600): void {
    writeFileAtomic(this.path(name), text, mode);
  }

  private readJson<T>(name: string): T | null {
    const p = this.path(name);
    if (!existsSync(p)) return null;
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  }

  loadPrivateKey(): string | null {
    const p = this.path('private.key');
    return existsSync(p) ? readFileSync(p, 'utf8').trim() : null;
  }

  savePrivateKey(key: string): void {
    this.writeAtomic('private.key', `${key}\n`, 0o600);
  }

  loadIdentity(): (Omit<Identity, 'privateKey'> & { coordinator?: string }) | null {
    return this.readJson('identity.json');
  }

  saveIdentity(id: Omit<Identity, 'privateKey'> & { coordinator: string; region: string; endpoint: string; gateway: boolean; version?: string }): void {
    this.writeAtomic('identity.json', `${JSON.stringify(id, null, 2)}\n`, 0o600);
  }

  /**
   * The last desired state saved: desired-state.json, or when that is
   * missing or corrupt (set aside as *.corrupt, reported through `log`) the
   * last good copy beside it; null when neither is usable (the feed rebuilds
   * it; until then nothing is applied over the live host).
   */
  loadDesired(log?: (msg: string, o: Record<string, unknown>) => void): { rev: number; state: State; from: string } | null {
    for (const name of [DESIRED, DESIRED_GOOD]) {
      const p = this.path(name);
      if (!existsSync(p)) continue;
      let why: string;
      try {
        const v = JSON.parse(readFileSync(p, 'utf8')) as unknown;
        if (isSavedState(v)) return { ...v, from: name };
        why = 'not a saved desired state';
      } catch (err) {
        why = (err as Error).message;
      }
      const aside = `${p}.corrupt`;
      renameSync(p, aside);
      log?.('corrupt desired state set aside', { file: p, movedTo: aside, err: why });
    }
    return null;
  }

  /** The state, and its good copy beside it (both fsync'd): a file found corrupt later falls back to the copy. */
  saveDesired(rev: number, state: State): void {
    const text = JSON.stringify({ rev, state });
    this.writeAtomic(DESIRED, text);
    this.writeAtomic(DESIRED_GOOD, text);
  }

  loadAttachments(): AttachmentRecord[] {
    return this.readJson<AttachmentRecord[]>('attachments.json') ?? [];
  }

  /** Saved after every pass and health check: an unchanged list is not written (and fsync'd) again. */
  saveAttachments(list: AttachmentRecord[]): void {
    const text = `${JSON.stringify(list, null, 2)}\n`;
    if (text === this.attachmentsText && existsSync(this.path('attachments.json'))) return;
    this.writeAtomic('attachments.json', text);
    this.attachmentsText = text;
  }

  loadText(name: string): string | null {
    const p = this.path(name);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  saveText(name: string, text: string): void {
    this.writeAtomic(name, text);
  }

  machineLog(machineId: string): string {
    return join(this.dir, 'machines', `${machineId}.log`);
  }
}
