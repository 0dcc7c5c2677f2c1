// A worker that reaches the frontend by name, as a Temporal worker would with
// `dns:///top1.nearest.of.temporal-frontend.internal:7233`: it dials the
// nearest frontend and also every frontend address, and reports whom it
// reached (stdout, and `GET /` on --status-port as JSON).
// `--once` (the external worker on a laptop): try until both are reached or
// --timeout passes, print the result as JSON, exit 0 if reached, 1 if not.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { addresses } from './discover.js';
import { every, serveStatus } from './status.js';

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'temporal-frontend' },
    port: { type: 'string', default: '7233' },
    'status-port': { type: 'string', default: '7300' },
    interval: { type: 'string', default: '500' },
    once: { type: 'boolean' },
    timeout: { type: 'string', default: '20000' },
  },
});
const PORT = Number(values.port);
const SELF = process.env.SIXPN_MACHINE_ID ?? process.env.WORKER_NAME ?? 'external';

/** Greet a frontend; its answer names it as `app/id`. */
function greet(ip: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: PORT });
    sock.setEncoding('utf8');
    const done = (v: string | null): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(2000, () => done(null));
    sock.on('connect', () => sock.write(`HELLO temporal-worker ${SELF}\n`));
    sock.on('data', (d: string) => {
      const m = /^MEMBER (\S+) (\S+)/.exec(d);
      done(m ? `${m[1]}/${m[2]}` : null);
    });
    sock.on('error', () => done(null));
  });
}

interface State {
  nearest: string | null;
  nearestIp: string | null;
  addresses: string[];
  all: string[];
  at: number;
}
let state: State = { nearest: null, nearestIp: null, addresses: [], all: [], at: Date.now() };
let last = '';

async function tick(): Promise<void> {
  const [nearestIps, all] = await Promise.all([addresses(`top1.nearest.of.${values.app}.internal`), addresses(`${values.app}.internal`)]);
  if (nearestIps === null || all === null) return; // DNS did not answer
  const [nearestIp = null] = nearestIps;
  const [nearest, reached] = await Promise.all([nearestIp ? greet(nearestIp) : null, Promise.all(all.map(greet))]);
  state = { nearest, nearestIp, addresses: [...all].sort(), all: reached.filter((r): r is string => r !== null).sort(), at: Date.now() };
  const line = `worker ${SELF}: nearest=${state.nearest ?? '-'} all=${state.all.join(',') || '-'}`;
  if (line !== last) {
    last = line;
    process.stdout.write(`${line}\n`);
  }
}

const reachedAll = (): boolean => state.nearest !== null && state.addresses.length > 0 && state.all.length === state.addresses.length;

if (values.once) {
  const end = Date.now() + Number(values.timeout);
  for (;;) {
    await tick();
    if (reachedAll() || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, Number(values.interval)));
  }
  process.stdout.write(`${JSON.stringify(state)}\n`);
  process.exit(reachedAll() ? 0 : 1);
} else {
  every(Number(values.interval), tick);
  serveStatus(Number(values['status-port']), () => ({ self: SELF, region: process.env.SIXPN_REGION ?? '', ...state }));
  process.on('SIGTERM', () => process.exit(0));
}
