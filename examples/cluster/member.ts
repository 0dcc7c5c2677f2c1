// A Temporal-shaped cluster member: a small real TCP service bound to `::`
// (so its SIXPN_PRIVATE_IP), which discovers the other members from
// `_instances.internal`, keeps a greeted connection to each, and reports the
// membership it sees (stdout, and `GET /` on port+1 as JSON).
//   node member.js --port 7233 --cluster temporal-frontend,temporal-history,temporal-matching
// Every member listens on the same port (each machine has its own address),
// like Temporal's membership port on every service.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { instances, type Instance } from './discover.js';
import { every, serveStatus } from './status.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7233' },
    cluster: { type: 'string' },
    interval: { type: 'string', default: '500' },
    bind: { type: 'string', default: '::' },
  },
});
const PORT = Number(values.port);
const CLUSTER = (values.cluster ?? process.env.SIXPN_APP_NAME ?? '').split(',').filter(Boolean);
const SELF = {
  id: process.env.SIXPN_MACHINE_ID ?? 'unknown',
  app: process.env.SIXPN_APP_NAME ?? 'unknown',
  region: process.env.SIXPN_REGION ?? '',
  ip: process.env.SIXPN_PRIVATE_IP ?? '',
};

interface Link {
  sock: net.Socket;
  peer: Instance;
  confirmed: boolean;
}
/** Members this one holds a connection to (confirmed once greeted back). */
const links = new Map<string, Link>();

// `::` takes the private address too (and nothing else exists in the
// machine); 0.0.0.0 would take no IPv6 at all.
const server = net.createServer((sock) => {
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    if (d.startsWith('HELLO')) sock.write(`MEMBER ${SELF.app} ${SELF.id} ${SELF.region}\n`);
  });
  sock.on('error', () => undefined);
});
server.listen({ host: values.bind, port: PORT });

function connect(peer: Instance): void {
  const sock = net.connect({ host: peer.ip, port: PORT });
  const link: Link = { sock, peer, confirmed: false };
  links.set(peer.id, link);
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write(`HELLO ${SELF.app} ${SELF.id}\n`));
  sock.on('data', (d: string) => {
    if (d.startsWith(`MEMBER ${peer.app} ${peer.id}`) && !link.confirmed) {
      link.confirmed = true;
      report();
    }
  });
  const drop = (): void => {
    if (links.get(peer.id) === link) {
      links.delete(peer.id);
      report();
    }
  };
  sock.on('error', drop);
  sock.on('close', drop);
  sock.setTimeout(3000, () => {
    if (!link.confirmed) sock.destroy();
  });
}

function membership(): string[] {
  return [`${SELF.app}/${SELF.id}`, ...[...links.values()].filter((l) => l.confirmed).map((l) => `${l.peer.app}/${l.peer.id}`)].sort();
}

let last = '';
/** ms since epoch of the last membership change (the test and demo measure convergence with it) */
let changedAt = Date.now();
function report(): void {
  const now = membership().join(' ');
  if (now === last) return;
  last = now;
  changedAt = Date.now();
  process.stdout.write(`membership ${membership().length}: ${now}\n`);
}

async function tick(): Promise<void> {
  const found = await instances(CLUSTER);
  if (found === null) return; // DNS did not answer: keep what we have
  const seen = found.filter((i) => i.id !== SELF.id);
  const ids = new Set(seen.map((i) => i.id));
  for (const [id, l] of links)
    if (!ids.has(id)) {
      links.delete(id);
      l.sock.destroy();
    }
  for (const peer of seen) if (!links.has(peer.id)) connect(peer);
  report();
}
every(Number(values.interval), tick);

serveStatus(PORT + 1, () => ({ self: SELF, members: membership(), changedAt }));
process.on('SIGTERM', () => process.exit(0));
