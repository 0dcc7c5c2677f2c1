// A Temporal-shaped cluster member: a small real TCP service bound to `::`
// (so its SIXPN_PRIVATE_IP), which discovers the other members from
// `_instances.internal`, keeps a connection to each, and reports the
// membership it sees (stdout, and `GET /` on port+1 as JSON).
//   node member.js --port 7233 --cluster temporal-frontend,temporal-history,temporal-matching
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { instances, type Instance } from './discover.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '7233' }, cluster: { type: 'string' }, interval: { type: 'string', default: '500' } } });
const PORT = Number(values.port);
const CLUSTER = (values.cluster ?? process.env.SIXPN_APP_NAME ?? '').split(',').filter(Boolean);
const SELF = { id: process.env.SIXPN_MACHINE_ID ?? 'unknown', app: process.env.SIXPN_APP_NAME ?? 'unknown', region: process.env.SIXPN_REGION ?? '', ip: process.env.SIXPN_PRIVATE_IP ?? '' };

/** Members this one holds a live, greeted connection to. */
const links = new Map<string, { sock: net.Socket; peer: Instance; confirmed: boolean }>();

const server = net.createServer((sock) => {
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => { if (d.startsWith('HELLO')) sock.write(`MEMBER ${SELF.app} ${SELF.id} ${SELF.region}\n`); });
  sock.on('error', () => undefined);
});
server.listen({ host: '::', port: PORT, ipv6Only: false });

function connect(peer: Instance): void {
  const sock = net.connect({ host: peer.ip, port: PORT });
  const link = { sock, peer, confirmed: false };
  links.set(peer.id, link);
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(`HELLO ${SELF.app} ${SELF.id}\n`));
  sock.on('data', (d: string) => { if (d.startsWith(`MEMBER ${peer.app} ${peer.id}`)) link.confirmed = true; });
  const drop = (): void => { if (links.get(peer.id) === link) links.delete(peer.id); };
  sock.on('error', drop);
  sock.on('close', drop);
  sock.setTimeout(3000, () => { if (!link.confirmed) sock.destroy(); });
}

function membership(): string[] {
  return [`${SELF.app}/${SELF.id}`, ...[...links.values()].filter((l) => l.confirmed).map((l) => `${l.peer.app}/${l.peer.id}`)].sort();
}

let last = '';
async function tick(): Promise<void> {
  const seen = (await instances(CLUSTER)).filter((i) => i.id !== SELF.id);
  const ids = new Set(seen.map((i) => i.id));
  for (const [id, l] of links) if (!ids.has(id)) { l.sock.destroy(); links.delete(id); }
  for (const peer of seen) if (!links.has(peer.id)) connect(peer);
  const now = membership().join(' ');
  if (now !== last) { last = now; process.stdout.write(`membership ${membership().length}: ${now}\n`); }
}
setInterval(() => void tick(), Number(values.interval));
void tick();

http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ self: SELF, members: membership() }));
}).listen({ host: '::', port: PORT + 1 });

process.on('SIGTERM', () => process.exit(0));
