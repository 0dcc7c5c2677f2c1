// Rewrite the README's CLI reference from the command table (after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { reference, withReference } from '../dist/src/cli/spec.js';
import { TABLE } from '../dist/src/cli/table.js';

const path = new URL('../README.md', import.meta.url);
const next = withReference(readFileSync(path, 'utf8'), reference(TABLE));
if (next === null) throw new Error('README.md has no cli-reference markers');
writeFileSync(path, next);
