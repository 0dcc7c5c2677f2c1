// `sixpn` entry point: dispatch to a subcommand; exit 0 ok, 1 error, 2 usage.
import { AppError } from '../errors.js';
import { CliError, UsageError } from './errors.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands/up.js')).upCommand,
  coordinator: async () => (await import('./commands/coordinator.js')).coordinatorCommand,
  dns: async () => (await import('../dns/command.js')).dnsCommand,
  agent: async () => (await import('../agent/command.js')).agentCommand,
  orgs: async () => (await import('./commands/orgs.js')).orgsCommand,
  apps: async () => (await import('./commands/apps.js')).appsCommand,
  machines: async () => (await import('./commands/machines.js')).machinesCommand,
  hosts: async () => (await import('./commands/hosts.js')).hostsCommand,
  wireguard: async () => (await import('./commands/wireguard.js')).wireguardCommand,
  tokens: async () => (await import('./commands/tokens.js')).tokensCommand,
  'install-units': async () => (await import('./commands/install-units.js')).installUnitsCommand,
};

const HELP = `sixpn: private WireGuard mesh and .internal DNS

  sixpn up [--data DIR] [--api HOST:PORT] [--dns HOST:PORT] [--region CODE]
  sixpn coordinator --data DIR | --db URL [--listen HOST:PORT] [--tls-cert F --tls-key F]
  sixpn dns --coordinator URL --token T [--listen HOST:PORT]... [--upstream IP[:PORT]]...
  sixpn agent --coordinator URL --enroll-token T --region CODE --endpoint HOST:PORT [--gateway] [--iface NAME]
  sixpn orgs create|list|show NAME
  sixpn apps create NAME --org ORG [--network NET] | apps list --org ORG
  sixpn machines create|run|list|show|start|stop|destroy ...
  sixpn hosts list | hosts enroll --region CODE --endpoint HOST:PORT --public-key KEY [--gateway]
  sixpn wireguard create ORG REGION NAME [FILE] | list ORG | remove ORG NAME | status ORG NAME
  sixpn tokens create --org ORG --scope org|wireguard | tokens create --scope host-enroll|reader
  sixpn install-units [--prefix DIR] [--check]      # systemd units and example configs

Every command takes --json, --api URL and --token T (or SIXPN_API_URL / SIXPN_TOKEN).
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') { process.stdout.write(HELP); return name ? 0 : 2; }
  if (name === '--version') { process.stdout.write('sixpn 0.1.0\n'); return 0; }
  const load = COMMANDS[name];
  if (!load) { process.stderr.write(`sixpn: unknown command ${JSON.stringify(name)} (see sixpn --help)\n`); return 2; }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`sixpn ${name}: ${err.message}\n`); return 2; }
    if (err instanceof CliError || err instanceof AppError) { process.stderr.write(`sixpn ${name}: ${err.message}\n`); return 1; }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sixpn ${name}: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`sixpn: ${String(err)}\n`);
  process.exitCode = 1;
});
