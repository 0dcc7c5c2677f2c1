// `sixpn version [--json]` (and `sixpn --version`): the package version and the git commit of the build.
import { arch, platform } from 'node:os';
import { COMMIT, VERSION } from '../../version.js';
import { json } from '../ctx.js';
import { printJson } from '../output.js';
import type { Context } from '../spec.js';

export async function versionCommand(ctx: Context): Promise<number> {
  if (json(ctx)) {
    printJson({ version: VERSION, commit: COMMIT, node: process.versions.node, platform: `${platform()}/${arch()}` });
    return 0;
  }
  // The first line is what `sixpn --version` prints.
  process.stdout.write(`sixpn ${VERSION}\ncommit ${COMMIT ?? 'unknown'}\nnode ${process.versions.node} ${platform()}/${arch()}\n`);
  return 0;
}
