// A tiny JSON status endpoint every cluster program serves, so the test and
// the demo can ask each one what it sees (over the mesh, with curl).
import http from 'node:http';

export function serveStatus(port: number, state: () => unknown): http.Server {
  return http
    .createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(state()));
    })
    .listen({ host: '::', port });
}

/** Runs `f` every `ms`, never two at once (a slow DNS answer must not pile up ticks). */
export function every(ms: number, f: () => Promise<void>, onError: (err: unknown) => void = () => undefined): void {
  let busy = false;
  const run = (): void => {
    if (busy) return;
    busy = true;
    f()
      .catch(onError)
      .finally(() => {
        busy = false;
      });
  };
  setInterval(run, ms);
  run();
}
