// The command table: every command, argument and flag of `sixpn`, with what it
// means. Help at every level, parsing (commander), shell completion and the
// README's CLI reference are all made from it. Handlers load lazily.
import { LOG_LEVELS } from '../log-levels.js';
import { QUOTA_FLAGS } from './quota-flags.js';
import type { CommandSpec, FlagSpec, Handler } from './spec.js';

const SERVICES = 'Run the services:';
const MANAGE = 'Manage the mesh:';
const OTHER = 'Other:';

const logLevel: FlagSpec = { name: 'log-level', value: 'L', help: 'log level', default: 'info', env: 'SIXPN_LOG_LEVEL', choices: LOG_LEVELS };
const logFormat: FlagSpec = {
  name: 'log-format',
  value: 'F',
  help: 'log lines for people (pino-pretty) or JSON (the journal)',
  default: 'pretty when stderr is a terminal, else json',
  env: 'SIXPN_LOG_FORMAT',
  choices: ['pretty', 'json'],
};
const ca: FlagSpec = { name: 'ca', value: 'FILE', help: "PEM of the CA that signs the coordinator's certificate (replaces the system CAs)", complete: 'file' };
const insecure: FlagSpec = { name: 'insecure', help: 'allow plain http:// to a coordinator that is not on loopback (the token crosses in clear)' };
const metrics: FlagSpec = {
  name: 'metrics',
  value: 'IP:PORT',
  help: 'serve Prometheus metrics at http://IP:PORT/metrics (keep it on loopback or a management address)',
};
const org = (help = 'the organization'): FlagSpec => ({ name: 'org', value: 'ORG', help, required: true });
const machineId = [{ name: 'ID', help: 'the machine id (14 hex characters)' }];
const machineFlags: FlagSpec[] = [
  { name: 'app', value: 'APP', help: 'the app the machine belongs to', required: true },
  { name: 'region', value: 'CODE', help: 'the region to place it in (a host there is picked)', required: true },
  { name: 'group', value: 'G', help: 'process group (a DNS label)', default: 'app' },
  { name: 'meta', value: 'K=V', help: 'metadata (key: a-z 0-9 - _; value: printable, no spaces)', repeat: true },
  { name: 'stopped', help: 'create it stopped' },
  { name: 'wait', help: 'return once its host reports it attached (its name then answers there); exit 1 with the reason if it fails' },
  { name: 'wait-timeout', value: 'D', help: 'how long --wait waits', default: '60s' },
  { name: 'check', value: 'SPEC', help: 'health check: tcp:PORT or http:PORT/PATH (at most 8; failing: out of DNS)', repeat: true },
  { name: 'check-interval', value: 'D', help: 'time between check rounds (1s..1h)', default: '5s' },
  { name: 'port', value: 'NAME:PORT', help: 'service port, [/tcp|/udp] after it: SRV _NAME._tcp.<app>.internal (at most 16)', repeat: true },
];
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Handler) =>
  async (): Promise<Handler> =>
    pick(await load());

const orgs = () => import('./commands/orgs.js');
const apps = () => import('./commands/apps.js');
const machines = () => import('./commands/machines.js');
const hosts = () => import('./commands/hosts.js');
const wireguard = () => import('./commands/wireguard.js');
const tokens = () => import('./commands/tokens.js');
const networks = () => import('./commands/networks.js');
const contexts = () => import('./commands/context.js');

export const TABLE: CommandSpec = {
  name: 'sixpn',
  summary: 'private WireGuard mesh and .internal DNS',
  description: 'Exit status: 0 ok, 1 the command failed (one line on stderr says why), 2 bad usage.',
  examples: ['sixpn up', 'sixpn machines --help', 'sixpn help wireguard create'],
  commands: [
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
        {
          name: 'host-timeout',
          value: 'DURATION',
          help: 'a host silent this long is unreachable: no new machines or developer peers (20s..24h)',
          default: '60s',
        },
        logLevel,
        logFormat,
      ],
      examples: ['sixpn up', 'sudo sixpn up --region ams --endpoint 203.0.113.7:51820'],
      run: async () => (await import('./commands/up.js')).upCommand,
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
        {
          name: 'host-timeout',
          value: 'DURATION',
          help: 'a host silent this long is unreachable: no new machines or developer peers (20s..24h)',
          default: '60s',
        },
        logLevel,
        logFormat,
      ],
      examples: [
        'sixpn coordinator --data /var/lib/sixpn/coordinator --listen 0.0.0.0:4280 --tls-cert cert.pem --tls-key key.pem',
        'sixpn coordinator backup /var/backups/sixpn.db --data /var/lib/sixpn/coordinator',
      ],
      run: async () => (await import('./commands/coordinator.js')).coordinatorCommand,
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
      run: async () => (await import('./commands/dns.js')).dnsCommand,
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
      run: async () => (await import('./commands/agent.js')).agentCommand,
    },
    {
      name: 'orgs',
      group: MANAGE,
      summary: 'organizations, each with its own private IPv6 network',
      commands: [
        {
          name: 'create',
          summary: 'create an org (and its default network)',
          client: true,
          args: [{ name: 'NAME', help: 'the org name (a DNS label)' }],
          run: lazy(orgs, (m) => m.create),
          examples: ['sixpn orgs create acme'],
        },
        { name: 'list', summary: 'list orgs', client: true, run: lazy(orgs, (m) => m.list) },
        {
          name: 'show',
          summary: 'show an org with its networks and apps',
          client: true,
          args: [{ name: 'NAME', help: 'the org name' }],
          run: lazy(orgs, (m) => m.show),
        },
      ],
    },
    {
      name: 'apps',
      group: MANAGE,
      summary: 'named groups of machines, found as <app>.internal',
      commands: [
        {
          name: 'create',
          summary: 'create an app in an org (app names are unique across the installation)',
          client: true,
          args: [{ name: 'NAME', help: 'the app name (a DNS label)' }],
          flags: [org(), { name: 'network', value: 'NET', help: 'the network of the org to put it in', default: "the org's default" }],
          run: lazy(apps, (m) => m.create),
          examples: ['sixpn apps create web --org acme'],
        },
        { name: 'list', summary: "list an org's apps", client: true, flags: [org()], run: lazy(apps, (m) => m.list) },
      ],
    },
    {
      name: 'machines',
      group: MANAGE,
      summary: 'an address in the mesh and a name in DNS, optionally running a command',
      commands: [
        {
          name: 'create',
          summary: 'create a machine of an app in a region (started unless --stopped)',
          client: true,
          flags: machineFlags,
          run: lazy(machines, (m) => m.create),
          examples: ['sixpn machines create --app web --region ams --meta role=primary'],
        },
        {
          name: 'run',
          summary: "create a machine that runs a command (its stdout and stderr go to the host agent's log)",
          client: true,
          flags: machineFlags,
          rest: 'CMD [ARGS]',
          run: lazy(machines, (m) => m.create),
          examples: ['sixpn machines run --app web --region ams -- python3 -m http.server 8080'],
        },
        {
          name: 'list',
          summary: "list an app's machines",
          client: true,
          flags: [
            { name: 'app', value: 'APP', help: 'the app', required: true },
            { name: 'all', help: 'include destroyed machines' },
          ],
          run: lazy(machines, (m) => m.list),
        },
        { name: 'show', summary: 'show a machine', client: true, args: machineId, run: lazy(machines, (m) => m.byId) },
        { name: 'start', summary: 'start a stopped machine', client: true, args: machineId, run: lazy(machines, (m) => m.byId) },
        {
          name: 'stop',
          summary: 'stop a machine (it keeps its address; its name stops answering)',
          client: true,
          args: machineId,
          run: lazy(machines, (m) => m.byId),
        },
        { name: 'destroy', summary: 'destroy a machine', client: true, args: machineId, run: lazy(machines, (m) => m.byId) },
        {
          name: 'metadata',
          summary: "a machine's metadata (found in DNS as <value>.<key>.kv._metadata.<app>.internal)",
          commands: [
            {
              name: 'get',
              summary: 'print every KEY=VALUE, or the value of KEY',
              client: true,
              args: [...machineId, { name: 'KEY', help: 'one key', optional: true }],
              run: lazy(machines, (m) => m.meta),
            },
            {
              name: 'set',
              summary: 'set KEY to VALUE',
              client: true,
              args: [...machineId, { name: 'KEY', help: 'a-z 0-9 - _' }, { name: 'VALUE', help: '1-255 printable characters, no spaces' }],
              run: lazy(machines, (m) => m.meta),
              examples: ['sixpn machines metadata set 0bd878713d78e4 role primary'],
            },
            { name: 'unset', summary: 'remove KEY', client: true, args: [...machineId, { name: 'KEY', help: 'the key' }], run: lazy(machines, (m) => m.meta) },
          ],
        },
      ],
    },
    {
      name: 'hosts',
      group: MANAGE,
      summary: 'the servers that run agents',
      commands: [
        {
          name: 'list',
          summary: "list hosts (status unreachable: silent past the coordinator's --host-timeout)",
          client: true,
          run: lazy(hosts, (m) => m.list),
        },
        { name: 'show', summary: 'show a host', client: true, args: [{ name: 'ID', help: 'the host id (sixpn hosts list)' }], run: lazy(hosts, (m) => m.show) },
        {
          name: 'enroll',
          summary: 'enroll a host by hand (agents enroll themselves with --enroll-token)',
          client: true,
          flags: [
            { name: 'region', value: 'CODE', help: "the host's region", required: true },
            { name: 'endpoint', value: 'HOST:PORT', help: "the host's public WireGuard endpoint", required: true },
            { name: 'public-key', value: 'KEY', help: "the host's WireGuard public key", required: true },
            { name: 'gateway', help: 'accept developer peers' },
          ],
          run: lazy(hosts, (m) => m.enroll),
        },
        {
          name: 'remove',
          summary: 'remove a host: the others drop it as a peer, its credential is refused, its machines become lost',
          client: true,
          args: [{ name: 'ID', help: 'the host id' }],
          flags: [{ name: 'force', help: 'also remove the developer peers a gateway still carries (they are listed)' }],
          run: lazy(hosts, (m) => m.remove),
        },
      ],
    },
    {
      name: 'wireguard',
      group: MANAGE,
      summary: "developer peers: wg-quick configs that join a laptop to an org's network",
      commands: [
        {
          name: 'create',
          summary: 'add a peer and write its wg-quick file (the private key never leaves this machine)',
          client: true,
          args: [
            { name: 'ORG', help: 'the org' },
            { name: 'REGION', help: 'the region of the gateway to use' },
            { name: 'NAME', help: 'the peer name (a DNS label, at most 15 characters)' },
            { name: 'FILE', help: 'where to write the config (default peers/NAME.conf)', optional: true },
          ],
          flags: [
            { name: 'network', value: 'NET', help: 'a network of the org', default: "the org's default" },
            { name: 'app', value: 'APP', help: 'the peer answers as this app in DNS' },
            { name: 'ttl', value: 'DURATION', help: 'an ephemeral peer: removed after 90s, 10m, 24h, 30d… (at most 365d)', default: 'never' },
            { name: 'force', help: 'overwrite FILE' },
            { name: 'qr', help: 'also print the config as a QR code (for the mobile apps)' },
          ],
          examples: ['sixpn wireguard create acme ams laptop && wg-quick up peers/laptop.conf'],
          run: lazy(wireguard, (m) => m.create),
        },
        { name: 'list', summary: "list an org's peers", client: true, args: [{ name: 'ORG', help: 'the org' }], run: lazy(wireguard, (m) => m.list) },
        {
          name: 'remove',
          summary: 'remove a peer',
          client: true,
          args: [
            { name: 'ORG', help: 'the org' },
            { name: 'NAME', help: 'the peer' },
          ],
          run: lazy(wireguard, (m) => m.remove),
        },
        {
          name: 'status',
          summary: "a peer's latest handshake and traffic, as its gateway reports them",
          client: true,
          args: [
            { name: 'ORG', help: 'the org' },
            { name: 'NAME', help: 'the peer' },
          ],
          run: lazy(wireguard, (m) => m.status),
        },
      ],
    },
    {
      name: 'tokens',
      group: MANAGE,
      summary: 'API tokens',
      commands: [
        {
          name: 'create',
          summary: 'create a token (printed once; stored hashed)',
          client: true,
          flags: [
            {
              name: 'scope',
              value: 'SCOPE',
              help: 'org, wireguard (with --org); host-enroll, reader, admin',
              required: true,
              choices: ['org', 'wireguard', 'host-enroll', 'reader', 'admin'],
            },
            { name: 'org', value: 'ORG', help: 'the org of an org or wireguard token' },
            { name: 'app', value: 'APP', help: 'a wireguard token that may also create peers of this app' },
            { name: 'ttl', value: 'DURATION', help: 'expire after 90s, 10m, 24h, 30d… (at most 365d)', default: 'never' },
          ],
          examples: [
            'sixpn tokens create --scope wireguard --org acme',
            'sixpn tokens create --scope wireguard --org acme --app db --ttl 24h',
            'sixpn tokens create --scope host-enroll --ttl 1h',
          ],
          run: lazy(tokens, (m) => m.create),
        },
        {
          name: 'list',
          summary: 'list unrevoked tokens: id, scope, org, app, host, created, expires, last used (never the secrets)',
          client: true,
          flags: [{ name: 'org', value: 'ORG', help: "only this org's tokens (an org token sees its own org only)" }],
          run: lazy(tokens, (m) => m.list),
        },
        {
          name: 'revoke',
          summary: 'revoke a token (its open streams close within a second)',
          client: true,
          args: [{ name: 'ID', help: 'the token id' }],
          run: lazy(tokens, (m) => m.revoke),
        },
      ],
    },
    {
      name: 'networks',
      group: MANAGE,
      summary: "an org's networks: each its own /48, unreachable from the others",
      commands: [
        {
          name: 'create',
          summary: 'create a custom network in an org (put apps in it with apps create --network)',
          client: true,
          args: [{ name: 'NAME', help: 'the network name (a DNS label)' }],
          flags: [org()],
          run: lazy(networks, (m) => m.create),
          examples: ['sixpn networks create staging --org acme', 'sixpn apps create db --org acme --network staging'],
        },
        { name: 'list', summary: "list an org's networks", client: true, flags: [org()], run: lazy(networks, (m) => m.list) },
      ],
    },
    {
      name: 'context',
      group: MANAGE,
      summary: 'named coordinators (API URL, token, CA) in the CLI config',
      description: 'The config is $SIXPN_CONFIG, else ~/.config/sixpn/cli.json; flags and SIXPN_* variables override its current context.',
      commands: [
        { name: 'list', summary: 'list contexts (* marks the current one)', run: lazy(contexts, (m) => m.list) },
        { name: 'use', summary: 'make a context the current one', args: [{ name: 'NAME', help: 'the context' }], run: lazy(contexts, (m) => m.use) },
        {
          name: 'add',
          summary: 'add or replace a context (the current one when it is the first, or with --use)',
          args: [{ name: 'NAME', help: 'the context name' }],
          flags: [
            { name: 'api', value: 'URL', help: 'the coordinator API URL', required: true },
            { name: 'token', value: 'T', help: 'the API token (stored in the config, mode 0600)' },
            { name: 'token-file', value: 'FILE', help: 'read the token from FILE at each command instead', complete: 'file' },
            { name: 'ca', value: 'FILE', help: "PEM of the CA that signs the coordinator's certificate", complete: 'file' },
            { name: 'use', help: 'make it the current context' },
          ],
          examples: ['sixpn context add prod --api https://coord.example.net:4280 --token-file ~/.sixpn-prod.token --ca ca.pem --use'],
          run: lazy(contexts, (m) => m.add),
        },
      ],
    },
    {
      name: 'dig',
      group: MANAGE,
      summary: "look a name up in an org's .internal through the API (no tunnel needed)",
      description:
        "Answers as a machine of the org's network would get them, from the same lookup as the DNS servers; printed like dig's answer section. Exit 1 on REFUSED or SERVFAIL.",
      client: true,
      args: [
        { name: 'NAME', help: 'e.g. web.internal, _apps.internal' },
        { name: 'TYPE', help: 'AAAA (default), TXT, PTR, NS, SOA or A', optional: true, choices: ['AAAA', 'TXT', 'PTR', 'NS', 'SOA', 'A'] },
      ],
      flags: [org(), { name: 'network', value: 'NET', help: 'a network of the org', default: "the org's default" }],
      examples: ['sixpn dig web.internal --org acme', 'sixpn dig _apps.internal TXT --org acme'],
      run: async () => (await import('./commands/dig.js')).digCommand,
    },
    {
      name: 'status',
      group: OTHER,
      summary: 'the coordinator (URL, version, store, revision, feed lag) and every host, problems first',
      client: true,
      flags: [],
      run: async () => (await import('./commands/status.js')).statusCommand,
    },
    {
      name: 'doctor',
      group: OTHER,
      summary: 'check this host or laptop for what sixpn needs; each check ok, warn or fail with a fix',
      description:
        'wg, wireguard-go, nft, ip and resolvconf on PATH; kernel WireGuard or TUN; the coordinator (TLS, token); ' +
        "the local agent's DNS answering _apps.internal; the ::3 redirect in nftables. Exit 1 when a check fails.",
      client: true,
      flags: [{ name: 'dns-port', value: 'P', help: "the local agent's DNS port", default: '5354' }],
      run: async () => (await import('./commands/doctor.js')).doctorCommand,
    },
    {
      name: 'install-units',
      group: OTHER,
      summary: 'install the systemd units and example configs, or check installed ones',
      description:
        'Units go to PREFIX/etc/systemd/system with ExecStart pointing at this installation; example configs to PREFIX/etc/sixpn ' +
        "when absent (never overwritten). --check runs each unit's flags through the real parsers and names file:line of a bad setting.",
      flags: [
        { name: 'prefix', value: 'DIR', help: 'install under DIR', default: '/', complete: 'dir' },
        { name: 'bin', value: 'PATH', help: 'the sixpn that ExecStart runs', default: 'this one', complete: 'file' },
        { name: 'tls', help: "also the coordinator's TLS drop-in" },
        { name: 'check', help: 'check the installed units and their configs instead' },
      ],
      examples: ['sudo sixpn install-units --tls', 'sixpn install-units --check'],
      run: async () => (await import('./commands/install-units.js')).installUnitsCommand,
    },
    {
      name: 'version',
      group: OTHER,
      summary: 'print the version (package.json) and the git commit of the build',
      run: async () => (await import('./commands/version.js')).versionCommand,
    },
    {
      name: 'completion',
      group: OTHER,
      summary: 'print a shell completion script',
      args: [{ name: 'SHELL', help: 'bash, zsh or fish', choices: ['bash', 'zsh', 'fish'] }],
      examples: ['source <(sixpn completion bash)', 'sixpn completion fish > ~/.config/fish/completions/sixpn.fish'],
      run: async () => (await import('./completion.js')).completionCommand,
    },
    {
      name: 'help',
      group: OTHER,
      summary: 'help on a command',
      args: [
        { name: 'NOUN', help: 'a command', optional: true },
        { name: 'VERB', help: 'one of its verbs', optional: true },
      ],
      examples: ['sixpn help machines create'],
    },
  ],
};
