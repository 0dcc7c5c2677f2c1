// A worker that reaches the frontend by name, as a Temporal worker would with
// `dns:///top1.nearest.of.temporal-frontend.internal:7233`: it dials the
// nearest frontend and also every frontend address, and reports whom it reached
// (stdout, and `GET /` on --status-port as JSON).
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { addresses } from './discover.js';

const { values } = parseArgs({ options: {
  app: { type: 'string', default: 'temporal-frontend' }, port: { type: 'string', default: '7233' },
  'status-port': { type: 'string', default: '7300' }, interval: { type: 'string', default: '500' }, once: { type: 'boolean' },
} });
const PORT = Number(values.port);
const SELF = process.env.SIXPN_MACHINE_ID ?? process.env.WORKER_NAME ?? 'external';

function greet(ip: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: PORT });
    sock.setEncoding('utf8');
    const done = (v: string | null): void => { sock.destroy(); resolve(v); };
    sock.setTimeout(2000, () => done(null));
    sock.on('connect', () => sock.write(`HELLO temporal-worker ${SELF}\n`));
    sock.on('data', (d: string) => { const m = /^MEMBER (\S+) (\S+)/.exec(d); done(m ? `${m[1]}/${m[2]}` : null); });
    sock.on('error', () => done(null));
  });
}

let state: { nearest: string | null; all: string[] } = { nearest: null, all: [] };
let last = '';
async function tick(): Promise<void> {
  const [nearestIp] = await addresses(`top1.nearest.of.${values.app}.internal`);
  const all = await addresses(`${values.app}.internal`);
  const reached = await Promise.all(all.map(greet));
  state = { nearest: nearestIp ? await greet(nearestIp) : null, all: reached.filter((r): r is string => r !== null).sort() };
  const line = `worker ${SELF}: nearest=${state.nearest ?? '-'} all=${state.all.join(',') || '-'}`;
  if (line !== last) { last = line; process.stdout.write(`${line}\n`); }
}

if (values.once) {
  void tick().then(() => { process.stdout.write(`${JSON.stringify(state)}\n`); process.exit(0); });
} else {
  setInterval(() => void tick(), Number(values.interval));
  void tick();
  http.createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(state)); })
    .listen({ host: '::', port: Number(values['status-port']) });
  process.on('SIGTERM', () => process.exit(0));
}
