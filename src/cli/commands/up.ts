// `sixpn up`: coordinator on an embedded SQLite, the default org `personal`,
// a host record for this machine, the DNS server, and (as root) a local agent.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/run.js';
import { hostTimeoutFlag } from './coordinator.js';
import { HEARTBEAT_MS } from '../../agent/heartbeat.js';
import { startUpDns } from '../../dns/up.js';
import { startUpAgent, type UpHostIdentity as LocalHostIdentity } from '../../agent/up.js';
import { generateKeyPair } from '../../wg/keys.js';
import { BUILD } from '../../version.js';
import { writeFileAtomic } from '../../atomic-file.js';
import { createLogger, type Logger } from '../../log.js';
import { bool, str } from '../ctx.js';
import { endpoint as endpointFlag, hostPort, label, logLevel } from '../flags.js';
import { addContext, sudoUser, userConfigPath } from '../config.js';
import { UsageError } from '../errors.js';
import { onShutdown } from '../shutdown.js';
import { quotaFlags } from '../quota-flags.js';
import type { Context } from '../spec.js';

export const DEFAULT_ORG = 'personal';

function defaultEndpoint(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return `${a.address}:51820`;
  }
  return '127.0.0.1:51820';
}

/** Enroll this machine once; later starts reuse the identity in <data>/host.json. */
async function ensureLocalHost(c: RunningCoordinator, dataDir: string, region: string, endpoint: string | undefined): Promise<LocalHostIdentity> {
  const file = join(dataDir, 'host.json');
  if (existsSync(file)) {
    const id = JSON.parse(readFileSync(file, 'utf8')) as LocalHostIdentity;
    if (id.region !== region) throw new UsageError(`this data dir's host is in region ${id.region}; start with --region ${id.region} or use another --data`);
    // The store writes nothing when neither the endpoint nor the version changed.
    await c.store.updateHost(id.host_id, { ...(endpoint ? { endpoint } : {}), version: BUILD });
    if (endpoint && endpoint !== id.endpoint) {
      id.endpoint = endpoint;
      writeFileAtomic(file, JSON.stringify(id, null, 2));
    }
    return id;
  }
  const keys = generateKeyPair();
  const ep = endpoint ?? defaultEndpoint();
  const { host, credential: token } = await c.store.enrollHost({ region, endpoint: ep, public_key: keys.publicKey, gateway: true, version: BUILD });
  const id: LocalHostIdentity = { host_id: host.id, public_key: keys.publicKey, private_key: keys.privateKey, credential: token, region, endpoint: ep };
  writeFileAtomic(file, JSON.stringify(id, null, 2));
  return id;
}

interface Closer {
  close(): Promise<void>;
}

function localHeartbeat(c: RunningCoordinator, hostId: number, logger: Logger): Closer {
  const beat = (): void => {
    c.store.heartbeat(hostId).catch((err: unknown) => logger.warn({ err: String(err) }, 'local host heartbeat failed'));
  };
  beat();
  const t = setInterval(beat, HEARTBEAT_MS);
  t.unref();
  return {
    close: async () => {
      clearInterval(t);
    },
  };
}

/**
 * Add the context `local` to the CLI config, keeping the user's other
 * contexts; under sudo, also to the invoking user's own config (owned by
 * them), so their `sixpn` works without sudo. Answers the files written.
 */
function writeLocalContext(ctx: { api: string; token: string }): string[] {
  const written = [userConfigPath()];
  if (!addContext(written[0]!, 'local', ctx))
    process.stderr.write('sixpn up: your CLI config has another current context; `sixpn context use local` to talk to this one\n');
  const sudo = process.getuid?.() === 0 && existsSync('/etc/passwd') ? sudoUser(process.env, readFileSync('/etc/passwd', 'utf8')) : null;
  if (sudo && !process.env.SIXPN_CONFIG) {
    const path = userConfigPath(sudo.home, {});
    if (path !== written[0]) {
      addContext(path, 'local', ctx, { owner: { uid: sudo.uid, gid: sudo.gid } });
      written.push(path);
    }
  }
  return written;
}

export async function upCommand(ctx: Context): Promise<number> {
  const f = ctx.flags;
  const dataDir = resolve(str(f, 'data') ?? 'data');
  const old = str(f, 'api');
  if (old !== undefined) process.stderr.write('sixpn up: --api is the old name of --listen; use --listen HOST:PORT\n');
  const listen = str(f, 'listen') ?? old;
  const apiAddr = hostPort(listen ?? '127.0.0.1:4280', listen === str(f, 'listen') ? 'listen' : 'api');
  const dnsAddr = hostPort(str(f, 'dns') ?? '127.0.0.1:5353', 'dns');
  const region = label(str(f, 'region') ?? 'local', 'region');
  const endpointArg = str(f, 'endpoint');
  const endpoint = endpointArg === undefined ? undefined : endpointFlag(endpointArg, 'endpoint');
  const level = logLevel(str(f, 'log-level') ?? process.env.SIXPN_LOG_LEVEL ?? 'info');
  const quotas = quotaFlags(f);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = createLogger('up', level);

  const c = await startCoordinator({
    dataDir,
    host: apiAddr.host,
    port: apiAddr.port,
    logger: logger.child({ component: 'coordinator' }),
    quotas,
    hostTimeoutMs: hostTimeoutFlag(f),
  });
  const closers: Closer[] = [c];
  try {
    if (!c.adminToken) throw new UsageError(`${join(dataDir, 'admin.token')} is missing: the CLI cannot be configured without it`);
    const org = await c.store.ensureOrg(DEFAULT_ORG);
    const host = await ensureLocalHost(c, dataDir, region, endpoint);
    const configs = writeLocalContext({ api: c.url, token: c.adminToken });

    // Loopback queries are answered as the default org's network.
    const dns = await startUpDns({
      coordinatorUrl: c.url,
      token: c.adminToken,
      listen: dnsAddr,
      loopbackNetworkId: org.network_id,
      region,
      logger: logger.child({ component: 'dns' }),
    });
    closers.unshift(dns);

    let agentLine = '';
    if (!bool(f, 'no-agent')) {
      if (process.getuid?.() !== 0)
        agentLine = 'data plane: off (not root: creating WireGuard interfaces, namespaces and nftables rules needs root; run `sudo sixpn up`)';
      else {
        const agent = await startUpAgent({ coordinatorUrl: c.url, identity: host, dataDir, logger: logger.child({ component: 'agent' }) });
        closers.unshift(agent);
        agentLine = `data plane: on (WireGuard ${agent.iface}, gateway endpoint ${host.endpoint})`;
      }
    } else agentLine = 'data plane: off (--no-agent)';
    // No agent sends this machine's heartbeat: `up` does, so its host is not unreachable after --host-timeout.
    if (!agentLine.startsWith('data plane: on')) closers.unshift(localHeartbeat(c, host.host_id, logger));

    process.stdout.write(
      [
        '',
        `sixpn is up (data in ${dataDir})`,
        `  API         ${c.url}   (CLI context \`local\` in ${configs.join(' and ')})`,
        `  DNS         ${dnsAddr.host}:${dnsAddr.port}  (try: dig @${dnsAddr.host} -p ${dnsAddr.port} _apps.internal TXT)`,
        `  dashboard   ${c.url}/ui#token=${c.adminToken}   (the token stays in the page: a URL fragment is never sent)`,
        `  org         ${org.name}, host ${host.host_id} in region ${region}`,
        `  ${agentLine}`,
        '',
        'next:',
        `  sixpn apps create web --org ${org.name}`,
        `  sixpn machines create --app web --region ${region}`,
        `  sixpn wireguard create ${org.name} ${region} laptop     # a developer peer; then wg-quick up peers/laptop.conf elsewhere`,
        `  curl -N -H "authorization: Bearer $(cat ${join(dataDir, 'admin.token')})" ${c.url}/v1/watch?since=0`,
        '',
      ].join('\n'),
    );
  } catch (err) {
    for (const x of closers) await x.close().catch(() => undefined);
    throw err;
  }
  await onShutdown(logger, async () => {
    for (const x of closers) await x.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
  });
  return 0;
}
