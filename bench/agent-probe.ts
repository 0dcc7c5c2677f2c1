// Runs inside a machine's namespace for bench/agent.ts: reads names on
// stdin, asks the host's DNS (the machine's resolv.conf server, fdaa:N:N::3)
// every millisecond until the name answers, then prints "<name> <wall ms>".
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const server = /nameserver\s+(\S+)/.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
if (!server) throw new Error('no nameserver in /etc/resolv.conf');
const now = (): number => performance.timeOrigin + performance.now();

async function watch(name: string): Promise<void> {
  const r = new Resolver({ timeout: 200, tries: 1 });
  r.setServers([server!]);
  for (;;) {
    try {
      const a = await r.resolve6(name);
      if (a.length) {
        process.stdout.write(`${name} ${now().toFixed(3)}\n`);
        return;
      }
    } catch {
      /* NXDOMAIN until it converges */
    }
    await new Promise((res) => setTimeout(res, 1));
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim()) void watch(line.trim());
});
process.stdout.write('ready\n');
