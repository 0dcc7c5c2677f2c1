// Reads the dashboard stream with fetch (so the token goes in a header, never
// in a URL), line by line, and reconnects with backoff after a restart, a cut
// or silence. A refused token stops it with the server's message.
import { UI_STREAM_PATH, type UiMessage } from '../protocol.js';

export type LinkState = { kind: 'connecting' } | { kind: 'live' } | { kind: 'reconnecting'; attempt: number; reason: string };

export interface StreamHandlers {
  message(msg: UiMessage): void;
  state(s: LinkState): void;
  /** the token was refused: no retry */
  refused(message: string): void;
}

/** No line (not even a heartbeat) for this long: the link is dead, reconnect. */
const SILENCE_MS = 25_000;
const MAX_BACKOFF_MS = 2000;

export function openStream(token: string, h: StreamHandlers): () => void {
  let stopped = false;
  let ctrl: AbortController | null = null;
  void (async () => {
    let attempt = 0;
    h.state({ kind: 'connecting' });
    while (!stopped) {
      let reason = 'stream ended';
      try {
        const outcome = await readOnce(
          token,
          h,
          (c) => {
            ctrl = c;
          },
          () => {
            attempt = 0;
          },
        );
        if (outcome === 'refused' || stopped) return;
        reason = outcome;
      } catch (err) {
        if (stopped) return;
        reason = err instanceof Error ? err.message : String(err);
      }
      attempt += 1;
      h.state({ kind: 'reconnecting', attempt, reason });
      await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 200 * 2 ** (attempt - 1))));
    }
  })();
  return () => {
    stopped = true;
    ctrl?.abort();
  };
}

/** One connection: 'refused', or why it ended. */
async function readOnce(token: string, h: StreamHandlers, setCtrl: (c: AbortController) => void, onLive: () => void): Promise<'refused' | string> {
  const ctrl = new AbortController();
  setCtrl(ctrl);
  let silence = setTimeout(() => ctrl.abort(), SILENCE_MS);
  try {
    const res = await fetch(UI_STREAM_PATH, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal: ctrl.signal });
    if (res.status === 401 || res.status === 403) {
      h.refused(await errorText(res));
      return 'refused';
    }
    if (!res.ok || !res.body) return `coordinator answered ${res.status}`;
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'stream ended';
      clearTimeout(silence);
      silence = setTimeout(() => ctrl.abort(), SILENCE_MS);
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as UiMessage;
        if (msg.type === 'error') {
          ctrl.abort();
          if (msg.code === 'unauthorized' || msg.code === 'forbidden') {
            h.refused(msg.message);
            return 'refused';
          }
          return msg.message;
        }
        if (msg.type === 'snapshot') {
          onLive();
          h.state({ kind: 'live' });
        }
        h.message(msg);
        if (msg.type === 'bye') {
          ctrl.abort();
          return msg.reason;
        }
      }
    }
  } finally {
    clearTimeout(silence);
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
