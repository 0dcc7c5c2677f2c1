// Shapes shared by the agent's desired-state computation and its drivers.

/** One machine as this host must realize it. */
export interface Attachment {
  machineId: string;
  app: string;
  org: string;
  region: string;
  networkId: number;
  /** machine address (…:2) */
  address: string;
  /** host side of the /112 (…:1) */
  gateway: string;
  /** the machine's /112 */
  subnet: string;
  /** fdaa:N:N::3 */
  dnsAddress: string;
  /** the network's /48 */
  network: string;
  /** host-side interface (≤ 15 chars) */
  hostIface: string;
  /** network namespace name (netns driver) */
  nsName: string;
  mtu: number;
  command: string[] | null;
  /** identifies this start of the machine: a change means "realize again" */
  generation: string;
}

/** What a driver reports about a live attachment: null when healthy. */
export type HealthProblem = string | null;

/** One read of the host's links and addresses, shared by a round of health checks. */
export interface HostSurvey {
  /** link name → index and state */
  links: ReadonlyMap<string, { index: number; up: boolean }>;
  /** link index → its addresses (as rtnetlink reports them) */
  addresses: ReadonlyMap<number, ReadonlySet<string>>;
}

export interface AttachmentDriver {
  readonly name: string;
  attach(a: Attachment): Promise<void>;
  detach(a: Pick<Attachment, 'machineId' | 'hostIface' | 'nsName'>): Promise<void>;
  /** `survey`: the round's host read (absent: the check reads what it needs itself) */
  check(a: Attachment, survey?: HostSurvey): Promise<HealthProblem>;
  /** one host read for a whole round of checks: O(machines) per round, not a dump per machine */
  survey?(): Promise<HostSurvey>;
  /** argv that runs a command inside the machine (netns: `ip netns exec`) */
  commandArgv?(a: Attachment, argv: string[]): string[];
  /** the driver's host paths a sandboxed command must not see (other machines' files) */
  hiddenPaths?(): string[];
}

/** Environment every driver and command sees. */
export function machineEnv(a: Attachment): Record<string, string> {
  return {
    SIXPN_PRIVATE_IP: a.address,
    SIXPN_APP_NAME: a.app,
    SIXPN_MACHINE_ID: a.machineId,
    SIXPN_REGION: a.region,
    SIXPN_ORG: a.org,
    SIXPN_NETWORK: a.network,
    SIXPN_NETWORK_ID: String(a.networkId),
    SIXPN_GATEWAY_IP: a.gateway,
    SIXPN_SUBNET: a.subnet,
    SIXPN_DNS_IP: a.dnsAddress,
    SIXPN_IFACE: a.hostIface,
    SIXPN_MTU: String(a.mtu),
  };
}
