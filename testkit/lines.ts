// An NDJSON stream (the watch feed, the dashboard stream) read over real HTTP.
import assert from 'node:assert/strict';

export interface LineStream {
  /** every complete line so far, parsed (keep-alive blank lines skipped) */
  lines(): any[];
  raw(): string;
  contentType: string | null;
  /** resolves with the time (ms) the stream ended: the server closed it, or `stop` */
  ended: Promise<number>;
  stop(): void;
}

export async function openLines(url: string, token: string): Promise<LineStream> {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
  assert.equal(res.status, 200, url);
  let raw = '';
  const ended = (async () => {
    const dec = new TextDecoder();
    try {
      for await (const c of res.body!) raw += dec.decode(c as Uint8Array, { stream: true });
    } catch {
      /* aborted */
    }
    return Date.now();
  })();
  return {
    raw: () => raw,
    // Complete lines only: a long line (a snapshot) may arrive in several chunks.
    lines: () =>
      raw
        .split('\n')
        .slice(0, -1)
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    contentType: res.headers.get('content-type'),
    ended,
    stop: () => ctrl.abort(),
  };
}
