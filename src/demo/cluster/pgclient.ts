// A client of the database-shaped cluster: it dials
// `primary.role.kv._metadata.<app>.internal:<port>` again and again and
// reports which machine answered as primary (stdout, and `GET /` as JSON).
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { addresses } from './discover.js';

const { values } = parseArgs({ options: {
  app: { type: 'string', default: 'pg' }, port: { type: 'string', default: '5432' },
  'status-port': { type: 'string', default: '5500' }, interval: { type: 'string', default: '200' },
} });

function ask(ip: string): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: Number(values.port) });
    sock.setEncoding('utf8');
    sock.setTimeout(1000, () => { sock.destroy(); resolve(null); });
    sock.on('data', (d: string) => { sock.destroy(); const m = /^PRIMARY (\S+)/.exec(d); resolve(m ? m[1]! : null); });
    sock.on('error', () => resolve(null));
  });
}

let state: { primary: string | null; since: string } = { primary: null, since: new Date().toISOString() };
async function tick(): Promise<void> {
  const [ip] = await addresses(`primary.role.kv._metadata.${values.app}.internal`);
  const primary = ip ? await ask(ip) : null;
  if (primary !== state.primary) {
    state = { primary, since: new Date().toISOString() };
    process.stdout.write(`client ${process.env.SIXPN_MACHINE_ID ?? ''}: primary=${primary ?? '-'}\n`);
  }
}
setInterval(() => void tick(), Number(values.interval));
void tick();
http.createServer((_req, res) => res.end(JSON.stringify(state))).listen({ host: '::', port: Number(values['status-port']) });
process.on('SIGTERM', () => process.exit(0));
