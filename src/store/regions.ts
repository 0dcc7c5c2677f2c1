// Regions: seeded from the built-in list at every start, read-only to the API.
import { AppError } from '../errors.js';
import type { Region } from '../model/types.js';
import type { Tx } from './sql.js';

interface RegionRow {
  code: string;
  name: string;
  latitude: number | string;
  longitude: number | string;
}

const toRegion = (r: RegionRow): Region => ({ code: r.code, name: r.name, latitude: Number(r.latitude), longitude: Number(r.longitude) });

/** Insert or refresh every region (names and coordinates may change between releases). */
export async function seedRegions(tx: Tx, regions: readonly Region[]): Promise<void> {
  for (const r of regions) {
    await tx.run(
      `INSERT INTO regions (code, name, latitude, longitude) VALUES (?, ?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET name = excluded.name, latitude = excluded.latitude, longitude = excluded.longitude`,
      [r.code, r.name, r.latitude, r.longitude],
    );
  }
}

export async function listRegions(tx: Tx): Promise<Region[]> {
  return (await tx.all<RegionRow>('SELECT * FROM regions ORDER BY code')).map(toRegion);
}

/** One page of listRegions, after the key `after` (keyset paging for a streamed snapshot). */
export async function regionsPage(tx: Tx, after: string | null, limit: number): Promise<Region[]> {
  return (await tx.all<RegionRow>('SELECT * FROM regions WHERE code > ? ORDER BY code LIMIT ?', [after ?? '', limit])).map(toRegion);
}

/** The region, or an `invalid` error naming the unknown code. */
export async function requireRegion(tx: Tx, code: string): Promise<Region> {
  const r = await tx.get<RegionRow>('SELECT * FROM regions WHERE code = ?', [code]);
  if (!r) throw new AppError('invalid', `unknown region ${JSON.stringify(code)}`);
  return toRegion(r);
}
