// Runs inside a machine's namespace for bench/health.ts: reads lines
// "<tag> <name> <address> gone|back" on stdin and asks the host's DNS (the
// machine's resolv.conf server) every 2 ms until `name`'s AAAA answer lacks
// (gone) or holds (back) `address`, then prints "<tag> <wall ms>".
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const server = /nameserver\s+(\S+)/.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
if (!server) throw new Error('no nameserver in /etc/resolv.conf');
const now = (): number => performance.timeOrigin + performance.now();

async function watch(tag: string, name: string, address: string, present: boolean): Promise<void> {
  const r = new Resolver({ timeout: 200, tries: 1 });
  r.setServers([server!]);
  for (;;) {
    let has: boolean | null = null;
    try {
      has = (await r.resolve6(name)).includes(address);
    } catch (err) {
      // NXDOMAIN/NODATA: the address is not there; a timeout says nothing
      if ((err as { code?: string }).code === 'ENOTFOUND' || (err as { code?: string }).code === 'ENODATA') has = false;
    }
    if (has === present) {
      process.stdout.write(`${tag} ${now().toFixed(3)}\n`);
      return;
    }
    await new Promise((res) => setTimeout(res, 2));
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [tag, name, address, what] = line.trim().split(' ');
  if (tag && name && address && what) void watch(tag, name, address, what === 'back');
});
process.stdout.write('ready\n');
