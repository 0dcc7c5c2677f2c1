// UDP and TCP listeners. Plain node:dgram / node:net rather than dns2's
// servers: those parse every packet before any hook could guard it (count
// bombs), re-parse on every query (no cache fast path), resolve listen() even
// when bind fails, and leak a concurrency slot when a handler never answers.
// Here binding errors reject, every message gets at most one answer, and a
// handler error becomes SERVFAIL upstream of this module (DnsEngine).
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../log.js';
import type { Reply } from './engine.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export type MessageHandler = (msg: Buffer, src: string, tcp: boolean) => Reply;

export interface Listener {
  host: string;
  port: number;
  /** the bound UDP socket (shared with worker processes by `--workers`) */
  udp: dgram.Socket;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 1024;
const TCP_MAX_PENDING = 64;
const TCP_MAX_UNREAD = 1 << 20;

/** UDP and TCP on the same host and port; port 0 picks one free for both. */
export async function listenBoth(addr: ListenAddress, handler: MessageHandler, log: Logger): Promise<Listener> {
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(addr, handler, log);
    const port = (udp.address() as net.AddressInfo).port;
    try {
      const tcp = await listenTcp({ host: addr.host, port }, handler, log);
      return {
        host: addr.host,
        port,
        udp,
        close: async () => {
          await Promise.all([
            new Promise<void>((r) => udp.close(() => r())),
            new Promise<void>((r) => {
              tcp.server.close(() => r());
              for (const s of tcp.sockets) s.destroy();
            }),
          ]);
        },
      };
    } catch (err) {
      await new Promise<void>((r) => udp.close(() => r()));
      // With port 0 the UDP port may be taken for TCP: try another.
      if (addr.port !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

/**
 * Answer every datagram on a bound socket: this process's own, or one a
 * primary shared with this worker process (the kernel hands each datagram to
 * whichever process reads it first).
 */
export function serveUdp(sock: dgram.Socket, handler: MessageHandler, log: Logger): void {
  const send = (buf: Buffer, port: number, address: string): void => {
    sock.send(buf, port, address);
  };
  sock.on('message', (msg, rinfo) => {
    let out: Reply;
    try {
      out = handler(msg, rinfo.address, false);
    } catch (err) {
      log.error({ err: String(err) }, 'dns: handler threw');
      return;
    }
    if (out === null) return;
    if (Buffer.isBuffer(out)) send(out, rinfo.port, rinfo.address);
    else
      out.then(
        (b) => {
          if (b) send(b, rinfo.port, rinfo.address);
        },
        (err: unknown) => log.error({ err: String(err) }, 'dns: udp reply failed'),
      );
  });
  // Send errors (e.g. an unreachable client) are not fatal.
  sock.on('error', (err) => log.debug({ err: String(err) }, 'dns: udp socket error'));
}

function bindUdp(addr: ListenAddress, handler: MessageHandler, log: Logger): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: net.isIPv6(addr.host) ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(addr.port, addr.host, () => {
      sock.off('error', reject);
      serveUdp(sock, handler, log);
      try {
        sock.setRecvBufferSize(4 << 20);
        sock.setSendBufferSize(4 << 20);
      } catch {
        /* capped by the kernel */
      }
      resolve(sock);
    });
  });
}

function listenTcp(addr: ListenAddress, handler: MessageHandler, log: Logger): Promise<{ server: net.Server; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    serveTcp(sock, handler, log);
  });
  server.maxConnections = TCP_MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: addr.host, port: addr.port, ipv6Only: false }, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err: String(err) }, 'dns: tcp server error'));
      resolve({ server, sockets });
    });
  });
}

/** Length-prefixed messages (RFC 1035 §4.2.2), pipelined, answered as they complete. */
function serveTcp(sock: net.Socket, handler: MessageHandler, log: Logger): void {
  let buf: Buffer = Buffer.alloc(0);
  let pending = 0;
  let peerEnded = false;
  const src = sock.remoteAddress ?? '';
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('error', (err) => log.debug({ err: String(err) }, 'dns: tcp connection error'));
  const write = (b: Buffer | null): void => {
    // A client that sends queries but never reads its answers is cut off.
    if (sock.writableLength > TCP_MAX_UNREAD) {
      sock.destroy();
      return;
    }
    if (b && !sock.destroyed && sock.writable) {
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(b.length);
      sock.write(Buffer.concat([len, b]));
    }
  };
  const finishIfDone = (): void => {
    if (peerEnded && pending === 0 && !sock.destroyed) sock.end();
  };
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 2) {
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) break;
      const msg = buf.subarray(2, 2 + n);
      buf = buf.subarray(2 + n);
      let out: Reply;
      try {
        out = handler(msg, src, true);
      } catch (err) {
        log.error({ err: String(err) }, 'dns: handler threw');
        continue;
      }
      if (out === null || Buffer.isBuffer(out)) {
        write(out);
        continue;
      }
      if (++pending > TCP_MAX_PENDING) {
        sock.destroy();
        return;
      }
      out
        .then(write, (err: unknown) => log.error({ err: String(err) }, 'dns: tcp reply failed'))
        .finally(() => {
          pending--;
          finishIfDone();
        });
    }
  });
  sock.on('end', () => {
    peerEnded = true;
    finishIfDone();
  });
}
