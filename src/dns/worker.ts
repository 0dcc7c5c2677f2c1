// Entry of a forked DNS worker (see workers.ts): rebuilds the engine from the
// primary's config, answers UDP on the sockets the primary hands over, keeps
// its replica in step with the primary's messages, reports its counters every
// second, and exits when told to or when the primary goes away.
import type dgram from 'node:dgram';
import { Replica } from '../feed/replica.js';
import { createLogger } from '../log.js';
import { createEngine } from './server.js';
import { DnsStats } from './stats.js';
import { serveUdp } from './transport.js';
import type { ToPrimary, ToWorker } from './worker-protocol.js';

const STATS_MS = 1000;
const replica = new Replica();
const sockets: dgram.Socket[] = [];
let serve: ((s: dgram.Socket) => void) | null = null;
let expected = -1;

const tell = (m: ToPrimary): void => {
  if (process.connected) process.send!(m);
};
const exit = (): void => {
  // Closing this process's descriptors leaves the shared sockets open in the others.
  for (const s of sockets)
    try {
      s.close();
    } catch {
      /* already closed */
    }
  process.exit(0);
};

process.on('disconnect', exit);
process.on('message', (m: ToWorker, handle?: dgram.Socket) => {
  switch (m.t) {
    case 'init': {
      const log = createLogger('sixpn-dns-worker', m.config.logLevel);
      const stats = m.config.stats ? new DnsStats() : undefined;
      const { engine } = createEngine(replica, m.config, log, stats);
      const handler = engine.handle.bind(engine);
      serve = (s) => serveUdp(s, handler, log);
      expected = m.sockets;
      if (stats) {
        setInterval(() => {
          const c = engine.cache;
          tell({ t: 'stats', ...stats.drain(), cache: { hits: c.hits, misses: c.misses, evictions: c.evictions, size: c.size } });
        }, STATS_MS).unref();
      }
      break;
    }
    case 'socket':
      if (!handle || !serve) throw new Error('dns worker: socket message without a handle or before init');
      serve(handle);
      sockets.push(handle);
      if (sockets.length === expected) tell({ t: 'ready' });
      break;
    case 'snapshot':
      replica.applySnapshot(m.rev, m.state);
      break;
    case 'change':
      replica.applyChange(m.rec);
      break;
    case 'close':
      exit();
      break;
  }
});
