// The sixpn DNS server under benchmark, in its own process: loads a state
// file into a Replica, serves it (loopback answered as network 1), reports its
// memory once loaded. Usage: node dist/bench/dns-server.js STATE.json PORT [--no-cache] [--workers N]
import { readFileSync } from 'node:fs';
import { startDnsServer } from '../src/dns/server.js';
import { Replica } from '../src/feed/replica.js';
import type { State } from '../src/model/types.js';

const [file, portArg, ...flags] = process.argv.slice(2);
const w = flags.indexOf('--workers');
const workers = w >= 0 ? Number(flags[w + 1]) : 1;
const t0 = performance.now();
const state = JSON.parse(readFileSync(file!, 'utf8')) as State;
const replica = new Replica();
replica.applySnapshot(1, state);
const server = await startDnsServer({
  replica,
  listen: [{ host: '127.0.0.1', port: Number(portArg) }],
  loopbackNetworkId: 1,
  loopbackRegion: 'iad',
  answerCache: !flags.includes('--no-cache'),
  workers,
});
const loadMs = performance.now() - t0;
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ ready: true, port: server.addresses[0]!.port, machines: state.machines.length, loadMs, rss: mem.rss, heapUsed: mem.heapUsed, workers: server.workers?.pids ?? [] })}\n`,
);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
