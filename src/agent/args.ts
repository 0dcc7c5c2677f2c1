// `sixpn agent` command line → configuration. Pure (env passed in), so the
// usage errors are table-tested.
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/errors.js';
import { isIP } from 'node:net';
import type { Upstream } from '../dns/forward.js';
import { isDnsLabel, parseEndpoint } from '../validate.js';
import { DEFAULT_DNS_PORT, DEFAULT_IFACE, DEFAULT_MACHINE_API_PORT, DEFAULT_MTU } from './defaults.js';

export const AGENT_USAGE = 'usage: sixpn agent --coordinator URL --enroll-token T --region CODE --endpoint HOST:PORT [--gateway] [--iface NAME] '
  + '[--listen-port P] [--state-dir DIR] [--mtu N] [--driver netns|hook] [--hook PATH] [--dns-port P] [--dns-upstream IP[:PORT]]... [--machine-api-port P] '
  + '[--ca FILE] [--insecure] [--metrics HOST:PORT] '
  + '[--open-port PORT/tcp|udp]... [--no-outside-filter] [--no-commands] [--userspace] [--teardown] [--log-level L]';

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

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** HOST:PORT for a listener: an IP (IPv6 in brackets) and a port. */
function listenAddress(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return null;
  const host = (m[1] ?? m[2])!;
  return isIP(host) ? { host, port: Number(m[3]) } : null;
}

/** An upstream resolver: an IP (never a name, which could resolve through us), port 53 unless given. */
function upstream(s: string): Upstream | null {
  if (isIP(s)) return { host: s, port: 53 };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return null;
  const host = (m[1] ?? m[2])!;
  return isIP(host) ? { host, port: Number(m[3]) } : null;
}

function intIn(v: string | undefined, flag: string, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`--${flag} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = {}): AgentArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        coordinator: { type: 'string' }, 'enroll-token': { type: 'string' }, region: { type: 'string' }, endpoint: { type: 'string' },
        gateway: { type: 'boolean' }, iface: { type: 'string' }, 'listen-port': { type: 'string' }, 'state-dir': { type: 'string' },
        mtu: { type: 'string' }, driver: { type: 'string' }, hook: { type: 'string' }, 'dns-port': { type: 'string' },
        'dns-upstream': { type: 'string', multiple: true }, 'machine-api-port': { type: 'string' }, 'open-port': { type: 'string', multiple: true },
        'no-outside-filter': { type: 'boolean' }, 'no-commands': { type: 'boolean' }, ca: { type: 'string' }, insecure: { type: 'boolean' }, metrics: { type: 'string' }, userspace: { type: 'boolean' }, teardown: { type: 'boolean' }, 'log-level': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  const coordinator = values.coordinator ?? env.SIXPN_API_URL ?? null;
  if (coordinator !== null && !/^https?:\/\/[^\s]+$/.test(coordinator)) throw new UsageError(`--coordinator must be an http(s) URL, got ${JSON.stringify(coordinator)}`);
  const region = values.region ?? null;
  if (region !== null && !isDnsLabel(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not a region code`);
  const endpoint = values.endpoint ?? null;
  if (endpoint !== null && !parseEndpoint(endpoint)) throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not HOST:PORT`);
  const iface = values.iface ?? DEFAULT_IFACE;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new UsageError(`--iface ${JSON.stringify(iface)} is not an interface name (1-15 of A-Z a-z 0-9 _ . -)`);
  const driver = values.driver ?? 'netns';
  if (driver !== 'netns' && driver !== 'hook') throw new UsageError(`--driver must be netns or hook, got ${JSON.stringify(driver)}`);
  const hook = values.hook ?? null;
  if (driver === 'hook' && !hook) throw new UsageError('--driver hook needs --hook PATH');
  if (driver !== 'hook' && hook) throw new UsageError('--hook goes with --driver hook');
  const dnsPort = intIn(values['dns-port'], 'dns-port', 0, 65535) ?? DEFAULT_DNS_PORT;
  const dnsUpstreams = (values['dns-upstream'] ?? []).map((s) => {
    const u = upstream(s);
    if (!u) throw new UsageError(`--dns-upstream ${JSON.stringify(s)}: expected IP[:PORT]`);
    return u;
  });
  const machineApiPort = intIn(values['machine-api-port'], 'machine-api-port', 0, 65535) ?? DEFAULT_MACHINE_API_PORT;
  if (machineApiPort !== 0 && machineApiPort === dnsPort) throw new UsageError(`--machine-api-port and --dns-port are both ${dnsPort}`);
  const openPorts = (values['open-port'] ?? []).map((s) => {
    const m = /^(\d{1,5})\/(tcp|udp)$/.exec(s);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--open-port ${JSON.stringify(s)}: expected PORT/tcp or PORT/udp`);
    return { proto: m[2] as 'tcp' | 'udp', port: Number(m[1]) };
  });
  if (values.ca === '') throw new UsageError('--ca needs a FILE');
  const metrics = values.metrics === undefined ? null : listenAddress(values.metrics);
  if (values.metrics !== undefined && !metrics) throw new UsageError(`--metrics ${JSON.stringify(values.metrics)}: expected IP:PORT ([IPv6]:PORT)`);
  const logLevel = values['log-level'] ?? env.SIXPN_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(logLevel)}`);
  return {
    coordinator,
    enrollToken: values['enroll-token'] ?? env.SIXPN_ENROLL_TOKEN ?? null,
    region,
    endpoint,
    gateway: values.gateway ?? false,
    iface,
    listenPort: intIn(values['listen-port'], 'listen-port', 1, 65535) ?? null,
    stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
    // IPv6 needs 1280 on every link; 9000 covers jumbo-frame underlays.
    mtu: intIn(values.mtu, 'mtu', 1280, 9000) ?? DEFAULT_MTU,
    driver,
    hook,
    dnsPort: dnsPort === 0 ? null : dnsPort,
    dnsUpstreams,
    machineApiPort: machineApiPort === 0 ? null : machineApiPort,
    openPorts,
    outsideFilter: !values['no-outside-filter'],
    commands: !values['no-commands'],
    caFile: values.ca ?? null,
    insecure: values.insecure ?? false,
    metrics,
    userspace: values.userspace ?? false,
    teardown: values.teardown ?? false,
    logLevel,
  };
}
