#!/usr/bin/env node
// npm run docs:api — write docs/api.md from the coordinator's OpenAPI document (after a build).
import { writeFileSync } from 'node:fs';
import { coordinatorSpec, renderApiDocs } from '../dist/src/coordinator/api-docs.js';

const out = new URL('../docs/api.md', import.meta.url);
writeFileSync(out, renderApiDocs(await coordinatorSpec()));
process.stdout.write(`wrote ${out.pathname}\n`);
