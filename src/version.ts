// One version for every part: package.json's, read at run time (every install
// ships it), and the git commit written into dist/src/build-info.json by the
// build (an `npm pack` install has no .git to ask).
import { readFileSync } from 'node:fs';

function readJson(rel: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

// This module runs as dist/src/version.js: the package root is two levels up.
export const VERSION: string = String(readJson('../../package.json')?.version ?? '0.0.0');
const commit = readJson('./build-info.json')?.commit;
export const COMMIT: string | null = typeof commit === 'string' && /^[0-9a-f]{7,40}$/.test(commit) ? commit : null;

/** `0.1.0+1a2b3c4d5e6f` (semver build metadata): what hosts report and User-Agents carry. */
export const BUILD: string = COMMIT ? `${VERSION}+${COMMIT}` : VERSION;

/** The User-Agent of every request a sixpn part makes to the coordinator. */
export function userAgent(part: 'cli' | 'agent' | 'dns'): string {
  return `sixpn-${part}/${BUILD} node/${process.versions.node}`;
}
