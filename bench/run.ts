// `npm run bench [-- NAME...]`: run the benchmarks (all by default) and print their tables.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const BENCHES: Record<string, string> = {
  coordinator: './coordinator.js',
  dns: './dns.js',
  agent: './agent.js',
  fleet: './fleet.js',
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHES);
let failed = 0;
for (const name of wanted) {
  const rel = BENCHES[name];
  if (!rel) { console.error(`unknown bench ${name}; one of ${Object.keys(BENCHES).join(', ')}`); process.exit(2); }
  console.log(`\n== bench: ${name}`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(rel, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
