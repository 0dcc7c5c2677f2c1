// The specs of the long-running services (up, coordinator, dns, agent), with
// every flag and what it means. No handlers here: the service commands parse
// their own argv against these specs, and table.ts attaches the handlers, so
// there is no import cycle between the table and the commands.
import { QUOTA_FLAGS } from './quota-flags.js';
import type { CommandSpec } from './spec.js';
import { SERVICES, ca, hostTimeout, insecure, logFormat, logLevel, metrics } from './table-flags.js';

export const SERVICE_SPECS: readonly CommandSpec[] = [
  {
    name: 'up',
    group: SERVICES,
    summary: 'run a whole sixpn on this machine: coordinator, DNS and (as root) an agent',
    description:
      'Starts the coordinator on an embedded SQLite, the default org `personal`, a host record for this machine, ' +
      'the DNS server and, as root, a local agent that is also a gateway. Adds the context `local` (API URL and admin token) ' +
      "to the CLI config, keeping its other contexts; under sudo, to the invoking user's config too.",
    flags: [
      { name: 'data', value: 'DIR', help: 'where the database, tokens and host identity live', default: './data', complete: 'dir' },
      { name: 'listen', value: 'HOST:PORT', help: 'where the API listens', default: '127.0.0.1:4280' },
      { name: 'api', value: 'HOST:PORT', help: 'old name of --listen (warns)', hidden: true },
      { name: 'dns', value: 'HOST:PORT', help: 'where the DNS server listens (loopback queries answer for org personal)', default: '127.0.0.1:5353' },
      { name: 'region', value: 'CODE', help: "this machine's region", default: 'local' },
      { name: 'endpoint', value: 'HOST:PORT', help: "this machine's WireGuard endpoint", default: 'the first non-loopback IPv4, port 51820' },
      { name: 'no-agent', help: 'no data plane (no WireGuard, namespaces or nftables)' },
      ...QUOTA_FLAGS,
      hostTimeout,
      logLevel,
      logFormat,
    ],
    examples: ['sixpn up', 'sudo sixpn up --region ams --endpoint 203.0.113.7:51820'],
  },
  {
    name: 'coordinator',
    group: SERVICES,
    service: true,
    summary: 'run the coordinator (API, store and change feed), or back up its database',
    description:
      'One of --data or --db is needed. The database URL may come from SIXPN_DB_URL instead, keeping its password off the command line. ' +
      "`sixpn coordinator backup FILE --data DIR` copies the SQLite database to FILE while the coordinator runs (SQLite's online backup); " +
      'back up PostgreSQL with pg_dump.',
    args: [
      { name: 'backup', help: 'instead of serving: copy the SQLite database of --data to FILE', optional: true, choices: ['backup'] },
      { name: 'FILE', help: 'where backup writes the copy', optional: true },
    ],
    flags: [
      { name: 'data', value: 'DIR', help: 'embedded SQLite database in DIR', complete: 'dir' },
      { name: 'db', value: 'URL', help: 'PostgreSQL database (postgres://...)', env: 'SIXPN_DB_URL' },
      { name: 'listen', value: 'HOST:PORT', help: 'where the API listens', default: '127.0.0.1:4280' },
      { name: 'tls-cert', value: 'F', help: 'serve HTTPS with this PEM certificate (with --tls-key)', complete: 'file' },
      { name: 'tls-key', value: 'F', help: 'the private key of --tls-cert', complete: 'file' },
      { name: 'force', help: 'backup: replace FILE if it exists' },
      ...QUOTA_FLAGS,
      hostTimeout,
      logLevel,
      logFormat,
    ],
    examples: [
      'sixpn coordinator --data /var/lib/sixpn/coordinator --listen 0.0.0.0:4280 --tls-cert cert.pem --tls-key key.pem',
      'sixpn coordinator backup /var/backups/sixpn.db --data /var/lib/sixpn/coordinator',
    ],
  },
  {
    name: 'dns',
    group: SERVICES,
    service: true,
    summary: "serve an org's .internal names, fed by the coordinator's change feed",
    description: "SERVFAIL until the first snapshot arrives. The default listeners are loopback only: a host's agent redirects port 53 of fdaa:*::3 to them.",
    flags: [
      { name: 'coordinator', value: 'URL', help: 'the coordinator', env: 'SIXPN_API_URL', required: true },
      { name: 'token', value: 'T', help: 'a reader token', env: 'SIXPN_TOKEN', required: true },
      { name: 'listen', value: 'HOST:PORT', help: 'where to serve (UDP and TCP)', default: '127.0.0.1:53 and [::1]:53', repeat: true },
      { name: 'upstream', value: 'IP[:PORT]', help: 'resolver for other names (else REFUSED)', repeat: true },
      { name: 'ttl', value: 'S', help: 'TTL of answers, seconds or a duration', default: '5' },
      ca,
      insecure,
      metrics,
      { name: 'workers', value: 'N', help: 'processes answering UDP on the same sockets (1..64; TCP and the feed stay in the first)', default: '1' },
      logLevel,
      logFormat,
    ],
    examples: ['sixpn dns --coordinator https://coord.example:4280 --token T --upstream 9.9.9.9'],
  },
  {
    name: 'agent',
    group: SERVICES,
    service: true,
    summary: 'run the host agent: WireGuard mesh, machines, DNS and nftables on this host',
    description:
      'Enrolls at its first start (region and endpoint are then kept in --state-dir). Needs root. ' +
      'SIGINT/SIGTERM leave the host as it is, for a seamless restart; --teardown removes it all.',
    flags: [
      { name: 'coordinator', value: 'URL', help: 'the coordinator', env: 'SIXPN_API_URL', required: true },
      { name: 'enroll-token', value: 'T', help: 'a host-enroll token (first start only)', env: 'SIXPN_ENROLL_TOKEN', required: true },
      { name: 'region', value: 'CODE', help: "this host's region", required: true },
      { name: 'endpoint', value: 'HOST:PORT', help: "this host's public WireGuard endpoint", required: true },
      { name: 'gateway', help: 'accept developer peers (wg-quick laptops)' },
      { name: 'iface', value: 'NAME', help: 'WireGuard interface', default: 'sixpn0' },
      { name: 'listen-port', value: 'P', help: 'WireGuard listen port', default: 'the port of --endpoint' },
      { name: 'state-dir', value: 'DIR', help: 'identity, keys and state', default: '/var/lib/sixpn/agent', complete: 'dir' },
      { name: 'mtu', value: 'N', help: 'WireGuard MTU (1280..9000)', default: '1280' },
      { name: 'driver', value: 'D', help: 'how machines run: network namespaces, or a hook program', default: 'netns', choices: ['netns', 'hook'] },
      { name: 'hook', value: 'PATH', help: 'the hook program (with --driver hook)', complete: 'file' },
      { name: 'dns-port', value: 'P', help: "local port of this host's DNS server (0: none)", default: '5354' },
      { name: 'dns-upstream', value: 'IP[:PORT]', help: 'resolver for names outside .internal', repeat: true },
      { name: 'machine-api-port', value: 'P', help: 'local port of the machine API (0: none)', default: '4281' },
      ca,
      insecure,
      metrics,
      { name: 'open-port', value: 'PORT/PROTO', help: 'let the outside reach this port (tcp or udp)', repeat: true },
      { name: 'no-outside-filter', help: 'do not firewall the host from the outside' },
      { name: 'no-commands', help: 'refuse `machines run` commands on this host (such machines fail)' },
      { name: 'userspace', help: 'use wireguard-go even when the kernel has WireGuard' },
      { name: 'teardown', help: 'remove the interface, namespaces and rules, then exit' },
      logLevel,
      logFormat,
    ],
    examples: ['sixpn agent --coordinator https://coord.example:4280 --enroll-token T --region iad --endpoint 203.0.113.10:51820 --gateway'],
  },
];

/** A root holding only the services, for `parseFlags(SERVICE_ROOT, ['agent'], argv)`. */
export const SERVICE_ROOT: CommandSpec = { name: 'sixpn', summary: 'sixpn services', commands: SERVICE_SPECS };
