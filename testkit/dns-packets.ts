// DNS wire helpers for tests, written independently of the server's code
// (and of dns2): build queries, decode responses, send over UDP/TCP, run dig.
import dgram from 'node:dgram';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Address6 } from 'ip-address';

const run = promisify(execFile);

/** ../shared/fixtures/dns-count-bomb.bin: qdcount 34,471, ancount 40,642 in 32 bytes. */
export const COUNT_BOMB = Buffer.from('20b5713886a79ec216460b0ab27b0dc7ce9418ddf41b3063a1ad850ff4de4c72', 'hex');

export interface QueryOpts {
  id?: number;
  rd?: boolean;
  cd?: boolean;
  /** add an OPT with this UDP size */
  edns?: number;
  ednsVersion?: number;
  opcode?: number;
  qclass?: number;
}

export function encodeName(name: string): Buffer {
  const parts = name
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export function buildQuery(name: string, type: number, o: QueryOpts = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? 0x1234, 0);
  h[2] = ((o.opcode ?? 0) << 3) | (o.rd === false ? 0 : 1);
  h[3] = o.cd ? 0x10 : 0;
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(o.edns !== undefined ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(o.qclass ?? 1, 2);
  const parts = [h, encodeName(name), q];
  if (o.edns !== undefined) {
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(o.edns, 3);
    opt[6] = o.ednsVersion ?? 0;
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

export interface Rec {
  name: string;
  type: number;
  ttl: number;
  /** AAAA: address text; TXT: strings; PTR/NS: target; SOA: "mname rname serial …"; OPT: '' */
  data: string | string[];
  rdlength: number;
}

export interface Decoded {
  id: number;
  qr: boolean;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  cd: boolean;
  opcode: number;
  /** full rcode (extended bits from the OPT included) */
  rcode: number;
  question: { name: string; type: number; class: number } | null;
  answers: Rec[];
  authority: Rec[];
  additional: Rec[];
  opt: { udpSize: number; version: number } | null;
}

function readName(b: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  let hops = 0;
  for (;;) {
    const l = b[off]!;
    if (l === undefined) throw new Error('name runs past the end');
    if ((l & 0xc0) === 0xc0) {
      if (++hops > 64) throw new Error('pointer loop');
      if (end < 0) end = off + 2;
      off = ((l & 0x3f) << 8) | b[off + 1]!;
      continue;
    }
    if (l === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    labels.push(b.toString('latin1', off + 1, off + 1 + l));
    off += 1 + l;
  }
  return [labels.join('.'), end];
}

function ipv6(b: Buffer): string {
  return Address6.fromUnsignedByteArray([...b]).correctForm();
}

function readRec(b: Buffer, off: number): [Rec, number] {
  const [name, p] = readName(b, off);
  const type = b.readUInt16BE(p),
    ttl = b.readUInt32BE(p + 4),
    rdlength = b.readUInt16BE(p + 8);
  const rd = p + 10;
  let data: string | string[] = '';
  if (type === 28) data = ipv6(b.subarray(rd, rd + 16));
  else if (type === 16) {
    const out: string[] = [];
    for (let i = rd; i < rd + rdlength;) {
      const l = b[i]!;
      out.push(b.toString('latin1', i + 1, i + 1 + l));
      i += 1 + l;
    }
    data = out;
  } else if (type === 12 || type === 2) data = readName(b, rd)[0];
  else if (type === 6) {
    const [mname, p1] = readName(b, rd);
    const [rname, p2] = readName(b, p1);
    data = [mname, rname, ...[0, 4, 8, 12, 16].map((k) => String(b.readUInt32BE(p2 + k)))].join(' ');
  }
  return [{ name, type, ttl, data, rdlength }, rd + rdlength];
}

export function decode(b: Buffer): Decoded {
  const qd = b.readUInt16BE(4),
    an = b.readUInt16BE(6),
    ns = b.readUInt16BE(8),
    ar = b.readUInt16BE(10);
  let off = 12;
  let question: Decoded['question'] = null;
  if (qd === 1) {
    const [name, p] = readName(b, off);
    question = { name, type: b.readUInt16BE(p), class: b.readUInt16BE(p + 2) };
    off = p + 4;
  }
  const section = (n: number): Rec[] => {
    const out: Rec[] = [];
    for (let i = 0; i < n; i++) {
      const [r, next] = readRec(b, off);
      out.push(r);
      off = next;
    }
    return out;
  };
  const answers = section(an),
    authority = section(ns),
    additional = section(ar);
  if (off !== b.length) throw new Error(`trailing bytes: ${b.length - off}`);
  const optRec = additional.find((r) => r.type === 41);
  let rcode = b[3]! & 0x0f;
  let opt: Decoded['opt'] = null;
  if (optRec) {
    // re-read the OPT's class and ttl fields from the tail
    const at = b.length - 11 - optRec.rdlength;
    opt = { udpSize: b.readUInt16BE(at + 3), version: b[at + 6]! };
    rcode |= b[at + 5]! << 4;
  }
  return {
    id: b.readUInt16BE(0),
    qr: !!(b[2]! & 0x80),
    opcode: (b[2]! >> 3) & 0xf,
    aa: !!(b[2]! & 0x04),
    tc: !!(b[2]! & 0x02),
    rd: !!(b[2]! & 0x01),
    ra: !!(b[3]! & 0x80),
    cd: !!(b[3]! & 0x10),
    rcode,
    question,
    answers,
    authority,
    additional,
    opt,
  };
}

/** One UDP exchange; null on timeout. */
export function udpExchange(host: string, port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

/** One TCP exchange (length-prefixed); null on timeout or close without an answer. */
export function tcpExchange(host: string, port: number, msg: Buffer, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (r: Buffer | null): void => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    s.on('connect', () => {
      const l = Buffer.alloc(2);
      l.writeUInt16BE(msg.length);
      s.write(Buffer.concat([l, msg]));
    });
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    s.on('error', () => done(null));
    s.on('close', () => done(null));
  });
}

/** Run dig against a server; returns stdout. */
export async function dig(server: string, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', [`@${server}`, '-p', String(port), '+tries=1', '+time=2', ...args], { timeout: 10_000 });
  return stdout;
}

/** `dig +short` lines, sorted (rotation makes the order vary). */
export async function digShort(server: string, port: number, ...args: string[]): Promise<string[]> {
  return (await dig(server, port, '+short', ...args)).split('\n').filter(Boolean).sort();
}

/** The `status:` and `flags:` of a full dig answer. */
export function digHeader(out: string): { status: string; flags: string[]; answer: number; authority: number } {
  const st = /status: (\w+)/.exec(out);
  const fl = /flags: ([^;]*);/.exec(out);
  const cnt = /ANSWER: (\d+), AUTHORITY: (\d+)/.exec(out);
  if (!st || !fl || !cnt) throw new Error(`unexpected dig output:\n${out}`);
  return { status: st[1]!, flags: fl[1]!.trim().split(/\s+/), answer: Number(cnt[1]), authority: Number(cnt[2]) };
}

/** Several length-prefixed queries written at once on one TCP connection; answers in arrival order. */
export function tcpPipeline(host: string, port: number, msgs: Buffer[], timeoutMs = 2000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`only ${out.length} of ${msgs.length} answers`));
    }, timeoutMs);
    s.on('connect', () =>
      s.write(
        Buffer.concat(
          msgs.flatMap((m) => {
            const l = Buffer.alloc(2);
            l.writeUInt16BE(m.length);
            return [l, m];
          }),
        ),
      ),
    );
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) {
        clearTimeout(t);
        s.end();
        resolve(out);
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
