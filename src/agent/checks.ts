// Health checks: the agent runs each started machine's checks (tcp:PORT,
// http:PORT/PATH) against the machine's address from the host side, every
// check interval, and reports a flip of the outcome to the coordinator (the
// replica's `health` is what was last reported, so nothing is sent while the
// outcome holds). One failed round is critical: DNS must drop a dead service
// within one interval plus a second, so there is no retry threshold.
import { connect } from 'node:net';
import { request } from 'node:http';
import type { Logger } from '../log.js';
import type { Machine, MachineCheck, MachineHealth } from '../model/types.js';

/** A probe answers whether one check passes within `timeoutMs`. */
export type Probe = (address: string, check: MachineCheck, timeoutMs: number) => Promise<boolean>;

export interface ChecksDeps {
  machines(): Iterable<Machine>;
  /** call `fn` after every replica change; returns the unsubscribe */
  subscribe(fn: () => void): () => void;
  hostId: number;
  report(machineId: string, health: 'passing' | 'critical'): Promise<void>;
  log: Logger;
  probe?: Probe;
}

/** A round's time limit: short enough that a hung service is dropped within interval + 1 s. */
export function roundTimeoutMs(intervalS: number): number {
  return Math.min(800, Math.max(100, (intervalS * 1000) / 2));
}

/** What to check on this host: started machines with checks, keyed so any change restarts their loop. Pure. */
export function checkedMachines(machines: Iterable<Machine>, hostId: number): Map<string, { machine: Machine; key: string }> {
  const out = new Map<string, { machine: Machine; key: string }>();
  for (const m of machines) {
    if (m.host_id !== hostId || m.state !== 'started' || !m.checks?.length) continue;
    out.set(m.id, { machine: m, key: JSON.stringify([m.address, m.checks, m.check_interval ?? 5]) });
  }
  return out;
}

/** The health to report after a round, or null when the replica already shows it (or a report is on its way). Pure. */
export function toReport(shown: MachineHealth | undefined, outcome: 'passing' | 'critical', inFlight: string | null): 'passing' | 'critical' | null {
  return shown === outcome || inFlight === outcome ? null : outcome;
}

export const probe: Probe = (address, check, timeoutMs) =>
  new Promise((resolve) => {
    if (check.type === 'tcp') {
      const s = connect({ host: address, port: check.port, timeout: timeoutMs });
      const done = (ok: boolean): void => {
        s.destroy();
        resolve(ok);
      };
      s.once('connect', () => done(true));
      s.once('timeout', () => done(false));
      s.once('error', () => done(false));
      return;
    }
    const req = request(
      { host: address, port: check.port, path: check.path, method: 'GET', timeout: timeoutMs, agent: false, headers: { 'user-agent': 'sixpn-check' } },
      (res) => {
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400;
        res.resume();
        req.destroy();
        resolve(ok);
      },
    );
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
    req.end();
  });

interface Loop {
  key: string;
  timer: NodeJS.Timeout | null;
  inFlight: string | null;
  stopped: boolean;
}

export class HealthChecks {
  private readonly loops = new Map<string, Loop>();
  private unsubscribe: (() => void) | null = null;
  private readonly probe: Probe;

  constructor(private readonly d: ChecksDeps) {
    this.probe = d.probe ?? probe;
  }

  start(): void {
    this.unsubscribe = this.d.subscribe(() => this.sync());
    this.sync();
  }

  /** Start loops for newly checked machines, stop those no longer started or changed. */
  sync(): void {
    const want = checkedMachines(this.d.machines(), this.d.hostId);
    for (const [id, l] of this.loops) {
      if (want.get(id)?.key !== l.key) {
        this.end(l);
        this.loops.delete(id);
      }
    }
    for (const [id, w] of want) {
      if (this.loops.has(id)) continue;
      const l: Loop = { key: w.key, timer: null, inFlight: null, stopped: false };
      this.loops.set(id, l);
      this.schedule(id, l, 0);
    }
  }

  private schedule(id: string, l: Loop, ms: number): void {
    if (l.stopped) return;
    l.timer = setTimeout(() => void this.round(id, l), ms);
    l.timer.unref();
  }

  private async round(id: string, l: Loop): Promise<void> {
    const m = [...this.d.machines()].find((x) => x.id === id);
    if (!m || l.stopped || !m.checks?.length) return;
    const interval = m.check_interval ?? 5;
    const started = Date.now();
    const t = roundTimeoutMs(interval);
    const results = await Promise.all(m.checks.map((c) => this.probe(m.address, c, t)));
    if (l.stopped) return;
    const outcome = results.every(Boolean) ? 'passing' : 'critical';
    const now = [...this.d.machines()].find((x) => x.id === id);
    const send = toReport(now?.health, outcome, l.inFlight);
    if (send) {
      l.inFlight = send;
      this.d.log.info({ machine: id, health: send }, 'machine health changed');
      this.d
        .report(id, send)
        .catch((err: unknown) => this.d.log.warn({ machine: id, err: String(err) }, 'health report failed; next round retries'))
        .finally(() => {
          if (l.inFlight === send) l.inFlight = null;
        });
    }
    this.schedule(id, l, Math.max(0, interval * 1000 - (Date.now() - started)));
  }

  private end(l: Loop): void {
    l.stopped = true;
    if (l.timer) clearTimeout(l.timer);
  }

  stop(): void {
    this.unsubscribe?.();
    for (const l of this.loops.values()) this.end(l);
    this.loops.clear();
  }
}
