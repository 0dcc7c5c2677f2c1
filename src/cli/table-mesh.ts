// The command table's nouns that manage the mesh: orgs, apps, machines,
// hosts, wireguard, tokens, networks and contexts. Handlers load lazily.
import type { CommandSpec } from './spec.js';
import { MANAGE, lazy, machineFlags, machineId, org } from './table-flags.js';

const orgs = () => import('./commands/orgs.js');
const apps = () => import('./commands/apps.js');
const machines = () => import('./commands/machines.js');
const hosts = () => import('./commands/hosts.js');
const wireguard = () => import('./commands/wireguard.js');
const tokens = () => import('./commands/tokens.js');
const networks = () => import('./commands/networks.js');
const contexts = () => import('./commands/context.js');

export const MESH_COMMANDS: CommandSpec[] = [
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
];
