// Read a watch stream line by line over real HTTP.
import http from 'node:http';
import type { FeedMessage } from '../src/model/types.js';

export interface WatchStream {
  next(timeoutMs?: number): Promise<FeedMessage>;
  close(): void;
  res: http.IncomingMessage;
}

/** `proto`: the feed protocol asked for (the `sixpn-feed-proto` header); none: 1. `raw` gets every line's text. */
export function openWatch(url: string, token: string, since: number, o: { proto?: number; raw?: (line: string) => void } = {}): Promise<WatchStream> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (o.proto) headers['sixpn-feed-proto'] = String(o.proto);
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/v1/watch?since=${since}`, { headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = '';
      const queue: FeedMessage[] = [];
      let waiter: ((m: FeedMessage) => void) | null = null;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!text.trim()) continue; // a keep-alive while the snapshot waits for its build
          o.raw?.(text);
          const msg = JSON.parse(text) as FeedMessage;
          if (waiter) {
            const w = waiter;
            waiter = null;
            w(msg);
          } else queue.push(msg);
        }
      });
      resolve({
        res,
        next(timeoutMs = 5000) {
          const m = queue.shift();
          if (m) return Promise.resolve(m);
          return new Promise((ok, fail) => {
            const t = setTimeout(() => {
              waiter = null;
              fail(new Error('no feed line in time'));
            }, timeoutMs);
            waiter = (msg) => {
              clearTimeout(t);
              ok(msg);
            };
          });
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}
