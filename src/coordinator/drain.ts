// Graceful shutdown needs every connection closed, but Node's
// closeIdleConnections() leaves a connection that never sent a request
// (HTTP clients such as undici open spare ones) until the client drops it,
// which can be never. So we count in-flight responses per connection and,
// once draining: close connections with none at once, close each other one
// as its last response ends (an in-flight write is still answered), and cut
// whatever is left at a deadline.
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

export interface ConnectionTracker {
  /** start draining: idle connections close now, busy ones when their last response ends */
  drain(): void;
  /** cut every connection still open */
  destroyAll(): void;
  /** open connections, for tests and logs */
  readonly size: number;
}

export function trackConnections(server: HttpServer): ConnectionTracker {
  const inFlight = new Map<Socket, number>();
  const tlsOf = new Map<Socket, Socket>();
  let draining = false;
  // Over TLS, requests arrive on the TLSSocket wrapping the TCP socket we saw
  // connect; key everything by the TCP socket so a connection that never
  // finished its handshake is tracked too.
  const rawOf = (s: Socket): Socket => (s as Socket & { _parent?: Socket })._parent ?? s;
  // End the TLS socket when there is one: its pending records and close_notify go out first.
  const closeSoon = (raw: Socket): void => {
    const s = tlsOf.get(raw) ?? raw;
    s.end();
    s.destroySoon();
  };

  server.on('connection', (s: Socket) => {
    if (draining) {
      s.destroy();
      return;
    }
    inFlight.set(s, 0);
    s.once('close', () => {
      inFlight.delete(s);
      tlsOf.delete(s);
    });
  });
  server.on('request', (req, res) => {
    const s = rawOf(req.socket);
    inFlight.set(s, (inFlight.get(s) ?? 0) + 1);
    if (draining && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      const n = Math.max(0, (inFlight.get(s) ?? 1) - 1);
      if (inFlight.has(s)) inFlight.set(s, n);
      if (draining && n === 0) closeSoon(s);
    });
  });
  if (server instanceof TlsServer) {
    // A handshake may finish after drain() began: such a connection has no request yet.
    server.on('secureConnection', (t: Socket) => {
      const raw = rawOf(t);
      if (raw !== t && inFlight.has(raw)) tlsOf.set(raw, t);
      if (draining && (inFlight.get(raw) ?? 0) === 0) closeSoon(raw);
    });
  }
  return {
    drain() {
      draining = true;
      for (const [s, n] of inFlight) if (n === 0) closeSoon(s);
    },
    destroyAll() {
      for (const s of inFlight.keys()) s.destroy();
    },
    get size() {
      return inFlight.size;
    },
  };
}
