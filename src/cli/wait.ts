// `machines create|run --wait`: poll the machine until its host reports it
// attached (the agent reports after attaching, when its DNS already has the
// name), or it fails, or time runs out. A spinner on stderr when it is a TTY.
import type { CoordinatorApi } from '../client/api.js';
import type { Machine } from '../model/types.js';
import { CliError } from './errors.js';

const FRAMES = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** where the spinner goes (stderr); none when not a TTY */
  tty?: NodeJS.WriteStream | null;
}

/** Why waiting is over without success, or null to keep waiting. */
export function waitVerdict(m: Machine): 'attached' | string | null {
  if (m.state === 'started') return m.attached_at ? 'attached' : null;
  if (m.state === 'failed') return `machine ${m.id} failed on host ${m.host_id}: ${m.reason ?? 'no reason given'}`;
  if (m.state === 'stopped') return `machine ${m.id} stopped before it was seen attached${m.reason ? `: ${m.reason}` : ''}`;
  return `machine ${m.id} is ${m.state}`;
}

export async function waitAttached(api: CoordinatorApi, m0: Machine, o: WaitOptions): Promise<Machine> {
  const started = Date.now();
  const tty = o.tty?.isTTY ? o.tty : null;
  let frame = 0;
  let m = m0;
  try {
    for (;;) {
      const v = waitVerdict(m);
      if (v === 'attached') return m;
      if (v !== null) throw new CliError(v);
      if (Date.now() - started >= o.timeoutMs) {
        throw new CliError(
          `machine ${m.id} not attached after ${Math.round(o.timeoutMs / 1000)} s: host ${m.host_id} has not reported it (is the agent on that host running? sixpn status)`,
        );
      }
      tty?.write(`\r${FRAMES[frame++ % FRAMES.length]} waiting for machine ${m.id} to attach on host ${m.host_id}…`);
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 200));
      m = (await api.getMachine(m.id)).machine;
    }
  } finally {
    tty?.write('\r\x1b[K');
  }
}
