// How an agent is started (`sixpn agent`, `sixpn up`, the tests).
import type { Upstream } from '../dns/forward.js';
import type { CoordinatorTls } from '../feed/tls.js';
import type { Logger } from '../log.js';
import type { Identity } from './statedir.js';

export interface AgentConfig {
  coordinatorUrl: string;
  stateDir: string;
  region: string;
  /** HOST:PORT other hosts reach our WireGuard port at */
  endpoint: string;
  gateway: boolean;
  iface: string;
  listenPort: number;
  mtu: number;
  /** first start: enroll with this token (ignored once enrolled) */
  enrollToken?: string;
  /** an already-provisioned host (`sixpn up`): no enrollment */
  identity?: Identity;
  driver: 'netns' | 'hook';
  hook?: string;
  /** local DNS server port; null runs none */
  dnsPort: number | null;
  dnsUpstreams?: Upstream[];
  /** local port of the machine API (fdaa:*::3 tcp/80 from machines is redirected here); absent/null runs none */
  machineApiPort?: number | null;
  outsideFilter: boolean;
  /** run `machines run` commands, sandboxed (default); false: `--no-commands` */
  commands?: boolean;
  /** more host paths commands' sandboxes hide (`up`: the coordinator's data dir) */
  sandboxHide?: string[];
  openPorts: { proto: 'tcp' | 'udp'; port: number }[];
  prefix?: number;
  logger: Logger;
  /** full re-check of devices and nft (catches changes made behind our back) */
  resyncMs?: number;
  /** attachment health checks */
  healthMs?: number;
  /** gateway: developer-peer status reports */
  peerStatusMs?: number;
  /** heartbeat to the coordinator every this many ms (default 10 s) */
  heartbeatMs?: number;
  /** force wireguard-go even when the kernel has WireGuard */
  userspace?: boolean;
  /** coordinator transport policy (--ca, --insecure); absent: fetch defaults, no URL policy (`sixpn up` on loopback) */
  tls?: CoordinatorTls;
  /** serve GET /metrics here */
  metrics?: { host: string; port: number } | null;
}
