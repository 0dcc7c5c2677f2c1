// Applies rendered rules with `nft -f -` (one atomic transaction).
import { execa } from 'execa';
import type { NftSpec } from './render.js';
import { renderReplace } from './render.js';

/** An `nft` call that takes longer is killed and fails (execa: "timed out after N milliseconds"). */
export const NFT_TIMEOUT_MS = 10_000;

function timedOut(r: { timedOut: boolean }, what: string): void {
  if (r.timedOut) throw new Error(`nft ${what} timed out after ${NFT_TIMEOUT_MS} ms`);
}

export async function applyTable(spec: NftSpec, nft = 'nft'): Promise<void> {
  await execa(nft, ['-f', '-'], { input: renderReplace(spec), timeout: NFT_TIMEOUT_MS });
}

export async function deleteTable(table: string, nft = 'nft'): Promise<void> {
  timedOut(await execa(nft, ['delete', 'table', 'inet', table], { reject: false, timeout: NFT_TIMEOUT_MS, stdin: 'ignore' }), `delete table ${table}`);
}

export async function listTable(table: string, nft = 'nft'): Promise<string | null> {
  const r = await execa(nft, ['list', 'table', 'inet', table], { reject: false, timeout: NFT_TIMEOUT_MS, stdin: 'ignore' });
  timedOut(r, `list table ${table}`);
  return r.exitCode === 0 ? r.stdout : null;
}
