// A client of the database-shaped cluster: it dials
// `primary.role.kv._metadata.<app>.internal:<port>` again and again, as an
// application reconnecting to its database would, and reports which machine
// answered as primary (stdout, and `GET /` on --status-port as JSON, with
// the times the answer changed so failover can be measured).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { addresses } from './discover.js';
import { every, serveStatus } from './status.js';

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'pg' },
    port: { type: 'string', default: '5432' },
    'status-port': { type: 'string', default: '5500' },
    interval: { type: 'string', default: '200' },
  },
});
const SELF = process.env.SIXPN_MACHINE_ID ?? 'client';

function ask(ip: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: Number(values.port) });
    sock.setEncoding('utf8');
    const done = (v: string | null): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => done(null));
    sock.on('data', (d: string) => done(/^PRIMARY (\S+)/.exec(d)?.[1] ?? null));
    sock.on('error', () => done(null));
  });
}

interface Change {
  primary: string | null;
  at: number;
}
let primary: string | null = null;
const history: Change[] = [{ primary: null, at: Date.now() }];

async function tick(): Promise<void> {
  const ips = await addresses(`primary.role.kv._metadata.${values.app}.internal`);
  if (ips === null) return;
  const now = ips[0] ? await ask(ips[0]) : null;
  if (now === primary) return;
  primary = now;
  history.push({ primary, at: Date.now() });
  if (history.length > 50) history.shift();
  process.stdout.write(`client ${SELF}: primary=${primary ?? '-'}\n`);
}
every(Number(values.interval), tick);
serveStatus(Number(values['status-port']), () => ({ id: SELF, primary, history }));
process.on('SIGTERM', () => process.exit(0));
