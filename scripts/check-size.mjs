// Part of `npm run lint`: no source file under src/ over 400 lines (the
// structure issue's rule: small modules with one job each).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LIMIT = 400;
const over = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.tsx?$/.test(e.name)) {
      const lines = readFileSync(p, 'utf8').split('\n').length - 1;
      if (lines > LIMIT) over.push(`${p}: ${lines} lines`);
    }
  }
};
walk('src');
if (over.length) {
  console.error(`source files over ${LIMIT} lines (split them by what they do):\n${over.join('\n')}`);
  process.exit(1);
}
