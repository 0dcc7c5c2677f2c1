// `npm run bench [-- NAME...]`: run the benchmarks (all by default) and print their tables.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const BENCHES: Record<string, string> = {
  coordinator: './coordinator.js',
  dns: './dns.js',
  agent: './agent.js',
  fleet: './fleet.js',
  health: './health.js',
  lease: './lease.js',
  fanout: './fanout.js',
};

const named = process.argv.slice(2);
const wanted = named.length ? named : Object.keys(BENCHES);
// The fleet bench at its default 1,000 replicas takes many minutes on a small
// machine: the run-everything pass uses 10 unless FLEET_REPLICAS says otherwise
// (`npm run bench -- fleet` keeps the default).
const env = named.length ? process.env : { FLEET_REPLICAS: '10', ...process.env };
let failed = 0;
for (const name of wanted) {
  const rel = BENCHES[name];
  if (!rel) {
    console.error(`unknown bench ${name}; one of ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench: ${name}`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(rel, import.meta.url))], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
