// `sixpn agent`: run the host agent until SIGINT/SIGTERM (which leave the
// host as it is, for a seamless restart), or `--teardown` to remove it all.
import { resolve } from 'node:path';
import { Agent } from '../../agent/agent.js';
import { DEFAULT_WG_PORT } from '../../agent/defaults.js';
import { StateDir } from '../../agent/statedir.js';
import { teardownHost } from '../../agent/teardown.js';
import { checkCoordinatorUrl, loadCoordinatorTls } from '../../feed/tls.js';
import { createLogger } from '../../log.js';
import { parseEndpoint } from '../../validate.js';
import { UsageError } from '../errors.js';
import { onShutdown } from '../shutdown.js';
import type { Context } from '../spec.js';
import { agentConfig } from './agent-args.js';

export async function agentCommand(ctx: Context): Promise<number> {
  const a = agentConfig(ctx.flags, process.env);
  const stateDir = resolve(a.stateDir);
  const logger = createLogger('agent', a.logLevel);
  if (a.teardown) {
    await teardownHost({ stateDir, iface: a.iface, log: logger });
    return 0;
  }
  if (process.getuid?.() !== 0) throw new UsageError('the agent needs root (WireGuard, namespaces, nftables)');
  // Once enrolled, region and endpoint come from the identity file.
  const saved = new StateDir(stateDir).loadIdentity() as { region?: string; endpoint?: string; coordinator?: string } | null;
  const coordinator = a.coordinator ?? saved?.coordinator ?? null;
  const region = a.region ?? saved?.region ?? null;
  const endpoint = a.endpoint ?? saved?.endpoint ?? null;
  if (!coordinator) throw new UsageError('--coordinator URL is required', { showUsage: true });
  if (!region) throw new UsageError('--region CODE is required', { showUsage: true });
  if (!endpoint) throw new UsageError('--endpoint HOST:PORT is required', { showUsage: true });
  const listenPort = a.listenPort ?? parseEndpoint(endpoint)?.port ?? DEFAULT_WG_PORT;
  // Same policy as `sixpn dns`: https with --ca, or http only on loopback unless --insecure.
  const tls = loadCoordinatorTls({ caFile: a.caFile, insecure: a.insecure });
  checkCoordinatorUrl(coordinator, tls);
  const agent = await Agent.start({
    coordinatorUrl: coordinator,
    stateDir,
    region,
    endpoint,
    gateway: a.gateway,
    iface: a.iface,
    listenPort,
    mtu: a.mtu,
    enrollToken: a.enrollToken ?? undefined,
    driver: a.driver,
    hook: a.hook ?? undefined,
    dnsPort: a.dnsPort,
    dnsUpstreams: a.dnsUpstreams,
    machineApiPort: a.machineApiPort,
    tls,
    metrics: a.metrics,
    outsideFilter: a.outsideFilter,
    commands: a.commands,
    openPorts: a.openPorts,
    logger,
    userspace: a.userspace,
    peerStatusMs: envMs('SIXPN_AGENT_PEER_STATUS_MS'),
    heartbeatMs: envMs('SIXPN_AGENT_HEARTBEAT_MS'),
  });
  logger.info({ hostId: agent.identity.hostId, iface: a.iface, listenPort, device: agent.device?.kind }, 'agent running');
  await onShutdown(logger, () => agent.stop());
  return 0;
}

/** Gateway peer-status and heartbeat intervals (default 10 s); tests shorten them through the environment. */
function envMs(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 100 || Number(v) > 3_600_000) throw new UsageError(`${name} must be 100..3600000 milliseconds, got ${JSON.stringify(v)}`);
  return Number(v);
}
