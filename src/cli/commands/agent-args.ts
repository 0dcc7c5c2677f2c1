// `sixpn agent` command line → configuration. Pure (env passed in), so the
// usage errors are table-tested.
import { DEFAULT_DNS_PORT, DEFAULT_IFACE, DEFAULT_MACHINE_API_PORT, DEFAULT_MTU } from '../../agent/defaults.js';
import type { Upstream } from '../../dns/forward.js';
import { bool, list, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { endpoint as endpointFlag, httpUrl, intIn, ipPort, label, logLevel, oneOf, portProto } from '../flags.js';
import { parseFlags } from '../program.js';
import type { Flags } from '../spec.js';
import { SERVICE_ROOT } from '../service-specs.js';

export const DEFAULT_STATE_DIR = '/var/lib/sixpn/agent';

export interface AgentArgs {
  coordinator: string | null;
  enrollToken: string | null;
  region: string | null;
  endpoint: string | null;
  gateway: boolean;
  iface: string;
  /** null: the port of --endpoint */
  listenPort: number | null;
  stateDir: string;
  mtu: number;
  driver: 'netns' | 'hook';
  hook: string | null;
  dnsPort: number | null;
  dnsUpstreams: Upstream[];
  /** local port of the machine API (fdaa:*::3:80 from machines); null runs none */
  machineApiPort: number | null;
  openPorts: { proto: 'tcp' | 'udp'; port: number }[];
  outsideFilter: boolean;
  /** run `machines run` commands (sandboxed); false: refuse them (--no-commands) */
  commands: boolean;
  /** CA for an https:// coordinator with a private CA */
  caFile: string | null;
  /** plain http:// to a coordinator that is not on loopback */
  insecure: boolean;
  /** where to serve GET /metrics; null: nowhere */
  metrics: { host: string; port: number } | null;
  userspace: boolean;
  teardown: boolean;
  logLevel: string;
}

/** The agent's flags (and env) → configuration. */
export function agentConfig(f: Flags, env: NodeJS.ProcessEnv = {}): AgentArgs {
  const int = (name: string, lo: number, hi: number): number | undefined => {
    const v = str(f, name);
    return v === undefined ? undefined : intIn(v, name, lo, hi);
  };
  const coordinator = str(f, 'coordinator') ?? env.SIXPN_API_URL ?? null;
  if (coordinator !== null) httpUrl(coordinator, 'coordinator');
  const region = str(f, 'region') ?? null;
  if (region !== null) label(region, '--region');
  const endpoint = str(f, 'endpoint') ?? null;
  if (endpoint !== null) endpointFlag(endpoint, 'endpoint');
  const iface = str(f, 'iface') ?? DEFAULT_IFACE;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new UsageError(`--iface ${JSON.stringify(iface)} is not an interface name (1-15 of A-Z a-z 0-9 _ . -)`);
  const driver = oneOf(str(f, 'driver') ?? 'netns', 'driver', ['netns', 'hook'] as const);
  const hook = str(f, 'hook') ?? null;
  if (driver === 'hook' && !hook) throw new UsageError('--driver hook needs --hook PATH');
  if (driver !== 'hook' && hook) throw new UsageError('--hook goes with --driver hook');
  const dnsPort = int('dns-port', 0, 65535) ?? DEFAULT_DNS_PORT;
  const dnsUpstreams: Upstream[] = list(f, 'dns-upstream').map((s) => ipPort(s, 'dns-upstream', 53));
  const machineApiPort = int('machine-api-port', 0, 65535) ?? DEFAULT_MACHINE_API_PORT;
  if (machineApiPort !== 0 && machineApiPort === dnsPort) throw new UsageError(`--machine-api-port and --dns-port are both ${dnsPort}`);
  const openPorts = list(f, 'open-port').map((s) => portProto(s, 'open-port'));
  const ca = str(f, 'ca');
  if (ca === '') throw new UsageError('--ca needs a FILE');
  const metrics = str(f, 'metrics');
  return {
    coordinator,
    enrollToken: str(f, 'enroll-token') ?? env.SIXPN_ENROLL_TOKEN ?? null,
    region,
    endpoint,
    gateway: bool(f, 'gateway'),
    iface,
    listenPort: int('listen-port', 1, 65535) ?? null,
    stateDir: str(f, 'state-dir') ?? DEFAULT_STATE_DIR,
    // IPv6 needs 1280 on every link; 9000 covers jumbo-frame underlays.
    mtu: int('mtu', 1280, 9000) ?? DEFAULT_MTU,
    driver,
    hook,
    dnsPort: dnsPort === 0 ? null : dnsPort,
    dnsUpstreams,
    machineApiPort: machineApiPort === 0 ? null : machineApiPort,
    openPorts,
    outsideFilter: !bool(f, 'no-outside-filter'),
    commands: !bool(f, 'no-commands'),
    caFile: ca ?? null,
    insecure: bool(f, 'insecure'),
    metrics: metrics === undefined ? null : ipPort(metrics, 'metrics'),
    userspace: bool(f, 'userspace'),
    teardown: bool(f, 'teardown'),
    logLevel: logLevel(str(f, 'log-level') ?? env.SIXPN_LOG_LEVEL ?? 'info'),
  };
}

/** `sixpn agent` argv (and env) → configuration. */
export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = {}): AgentArgs {
  return agentConfig(parseFlags(SERVICE_ROOT, ['agent'], argv), env);
}
