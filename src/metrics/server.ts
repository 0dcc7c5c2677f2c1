// A tiny HTTP server that only answers GET /metrics, for processes without an
// HTTP API of their own (the DNS server, the agent). Bind it to loopback or a
// management address: the series carry no secrets, but nothing else belongs there.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { render } from './registry.js';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9481/metrics */
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    render(registry).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType }).end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`);
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
