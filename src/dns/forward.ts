// Forwarding of names outside our zones to the configured upstreams. The
// query bytes go out unchanged but for a fresh random ID (so an off-path
// answer cannot be injected with the client's ID); the reply must match ID and
// question, then gets the client's ID back. UDP queries go out over UDP, TCP
// over TCP. No answer within the timeout from any upstream → null (SERVFAIL).
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Query } from './wire.js';

export interface Upstream {
  host: string;
  port: number;
}

export class Forwarder {
  private inflight = 0;

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly timeoutMs = 2000,
    private readonly maxInflight = 512,
  ) {}

  /** The upstream's response with the client's ID, or null on timeout / overload. */
  async forward(msg: Buffer, q: Query, tcp: boolean): Promise<Buffer | null> {
    if (this.inflight >= this.maxInflight) return null;
    this.inflight++;
    try {
      const perTry = Math.max(200, Math.floor(this.timeoutMs / this.upstreams.length));
      for (const up of this.upstreams) {
        const out = Buffer.from(msg);
        const id = randomInt(0x10000);
        out.writeUInt16BE(id, 0);
        const res = await (tcp ? askTcp(up, out, perTry) : askUdp(up, out, perTry, (r) => matches(r, out, q, id))).catch(() => null);
        if (res && matches(res, out, q, id)) {
          res.writeUInt16BE(q.id, 0);
          return res;
        }
      }
      return null;
    } finally {
      this.inflight--;
    }
  }
}

/** Same ID, QR set, same question bytes (case-insensitively). */
function matches(res: Buffer, sent: Buffer, q: Query, id: number): boolean {
  if (res.length < q.qEnd || res.readUInt16BE(0) !== id || !(res[2]! & 0x80)) return false;
  if (res.readUInt16BE(4) !== 1) return false;
  return res.toString('latin1', 12, q.qEnd).toLowerCase() === sent.toString('latin1', 12, q.qEnd).toLowerCase();
}

function askUdp(up: Upstream, msg: Buffer, timeoutMs: number, ok: (r: Buffer) => boolean): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
    const done = (r: Buffer | null): void => {
      clearTimeout(t);
      sock.close();
      resolve(r);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('message', (r, rinfo) => {
      // only the upstream's address and port, and only the matching answer
      if (rinfo.port === up.port && ok(r)) done(r);
    });
    sock.send(msg, up.port, up.host);
  });
}

function askTcp(up: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    const done = (r: Buffer | null): void => {
      clearTimeout(t);
      sock.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => done(null));
  });
}
