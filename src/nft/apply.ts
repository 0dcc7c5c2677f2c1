// Applies rendered rules with `nft -f -` (one atomic transaction).
import { execa } from 'execa';
import type { NftSpec } from './render.js';
import { renderReplace } from './render.js';

export async function applyTable(spec: NftSpec, nft = 'nft'): Promise<void> {
  await execa(nft, ['-f', '-'], { input: renderReplace(spec) });
}

export async function deleteTable(table: string, nft = 'nft'): Promise<void> {
  await execa(nft, ['delete', 'table', 'inet', table], { reject: false });
}

export async function listTable(table: string, nft = 'nft'): Promise<string | null> {
  const r = await execa(nft, ['list', 'table', 'inet', table], { reject: false });
  return r.exitCode === 0 ? r.stdout : null;
}
