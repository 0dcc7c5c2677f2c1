// A client of the PostgreSQL cluster, as an application would write: one
// connection to `primary.lease.<app>.internal` (the lease holder, by DNS),
// an INSERT after another, and on any error a new connection (the name is
// resolved again, so it follows a failover). It reports every commit the
// server acknowledged (client, seq), and which server acknowledged when
// (`GET /` on --status-port), so a test can compare them with the rows that
// are there after a failover.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { serveStatus } from './status.js';

const { values } = parseArgs({
  options: {
    app: { type: 'string', default: 'pg' },
    port: { type: 'string', default: '5432' },
    'status-port': { type: 'string', default: '5500' },
    interval: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '1000' },
  },
});
const SELF = process.env.SIXPN_MACHINE_ID ?? 'client';
const HOST = `primary.lease.${values.app}.internal`;
const INTERVAL = Number(values.interval);
const TIMEOUT = Number(values.timeout);

interface Change {
  /** the address of the server that acknowledged (inet_server_addr()) */
  primary: string | null;
  at: number;
}
let primary: string | null = null;
const history: Change[] = [{ primary: null, at: Date.now() }];
/** every seq whose commit was acknowledged */
const acked: number[] = [];
let seq = 0;
let errors = 0;
let lastError: string | null = null;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({
    host: HOST,
    port: Number(values.port),
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: TIMEOUT,
    query_timeout: TIMEOUT,
  });
  c.on('error', () => undefined); // a dead server: the next query fails and we reconnect
  await c.connect();
  return c;
}

async function loop(): Promise<void> {
  let c: pg.Client | null = null;
  for (;;) {
    try {
      c ??= await connect();
      const n = ++seq;
      const r = await c.query<{ server: string }>('INSERT INTO acks (client, seq) VALUES ($1, $2) RETURNING host(inet_server_addr()) AS server', [SELF, n]);
      acked.push(n);
      const server = r.rows[0]!.server;
      if (server !== primary) {
        primary = server;
        history.push({ primary, at: Date.now() });
        process.stdout.write(`pgclient ${SELF}: commits acknowledged by ${primary}\n`);
      }
      if (INTERVAL > 0) await sleep(INTERVAL);
    } catch (err) {
      errors++;
      lastError = String((err as Error).message ?? err);
      void c?.end().catch(() => undefined);
      c = null;
      await sleep(50);
    }
  }
}

serveStatus(Number(values['status-port']), () => ({ id: SELF, primary, history, acked, sent: seq, errors, lastError }));
void loop();
process.on('SIGTERM', () => process.exit(0));
