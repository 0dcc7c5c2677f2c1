// The command table: every command, argument and flag of `sixpn`, with what it
// means. Help at every level, parsing (commander), shell completion and the
// README's CLI reference are all made from it. Handlers load lazily.
import type { CommandSpec, Handler } from './spec.js';
import { MANAGE, OTHER, org } from './table-flags.js';
import { MESH_COMMANDS } from './table-mesh.js';
import { SERVICE_SPECS } from './service-specs.js';

const SERVICE_HANDLERS: Record<string, () => Promise<Handler>> = {
  up: async () => (await import('./commands/up.js')).upCommand,
  coordinator: async () => (await import('./commands/coordinator.js')).coordinatorCommand,
  dns: async () => (await import('./commands/dns.js')).dnsCommand,
  agent: async () => (await import('./commands/agent.js')).agentCommand,
};

export const TABLE: CommandSpec = {
  name: 'sixpn',
  summary: 'private WireGuard mesh and .internal DNS',
  description: 'Exit status: 0 ok, 1 the command failed (one line on stderr says why), 2 bad usage.',
  examples: ['sixpn up', 'sixpn machines --help', 'sixpn help wireguard create'],
  commands: [
    ...SERVICE_SPECS.map((s) => ({ ...s, run: SERVICE_HANDLERS[s.name] })),
    ...MESH_COMMANDS,
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
      summary: 'the coordinator (URL, version, store, revision, feed lag) and every host (handshakes between hosts, agent and DNS feed lag), problems first',
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
      run: async () => (await import('./completion.js')).completionCommandFor(TABLE),
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
