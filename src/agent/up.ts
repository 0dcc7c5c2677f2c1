// The local agent of `sixpn up`: same agent, in-process, for the host `up`
// provisioned itself (no enrollment), as a gateway, torn down on exit.
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { parseEndpoint } from '../validate.js';
import { Agent } from './agent.js';
import { DEFAULT_DNS_PORT, DEFAULT_IFACE, DEFAULT_MACHINE_API_PORT, DEFAULT_MTU, DEFAULT_WG_PORT } from './defaults.js';

/** What `up` keeps about its host (see src/cli/commands/up.ts). */
export interface UpHostIdentity {
  host_id: number;
  public_key: string;
  private_key: string;
  credential: string;
  region: string;
  endpoint: string;
}

export interface UpAgentOptions {
  coordinatorUrl: string;
  identity: UpHostIdentity;
  dataDir: string;
  logger: Logger;
  iface?: string;
  dnsPort?: number;
  mtu?: number;
}

export interface UpAgent {
  agent: Agent;
  iface: string;
  close(): Promise<void>;
}

export async function startUpAgent(o: UpAgentOptions): Promise<UpAgent> {
  const iface = o.iface ?? DEFAULT_IFACE;
  const agent = await Agent.start({
    coordinatorUrl: o.coordinatorUrl,
    stateDir: join(o.dataDir, 'agent'),
    region: o.identity.region,
    endpoint: o.identity.endpoint,
    gateway: true,
    iface,
    listenPort: parseEndpoint(o.identity.endpoint)?.port ?? DEFAULT_WG_PORT,
    mtu: o.mtu ?? DEFAULT_MTU,
    identity: { hostId: o.identity.host_id, publicKey: o.identity.public_key, privateKey: o.identity.private_key, credential: o.identity.credential },
    driver: 'netns',
    dnsPort: o.dnsPort ?? DEFAULT_DNS_PORT,
    machineApiPort: DEFAULT_MACHINE_API_PORT,
    // A laptop or dev box: do not firewall its other services.
    outsideFilter: false,
    openPorts: [],
    // Machines never see the coordinator's data (the admin token, the database).
    sandboxHide: [o.dataDir],
    logger: o.logger,
  });
  return { agent, iface, close: () => agent.stop({ teardown: true }) };
}
