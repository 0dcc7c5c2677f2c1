// Placement policy, pure: which host carries a new machine, which gateway a
// new developer peer. The store loads the candidates inside its write
// transaction and asks here; no I/O, so the policy is table-tested.
import { AppError } from '../errors.js';
import { regionDistanceKm } from '../model/regions.js';
import type { Region } from '../model/types.js';

export interface Candidate {
  id: number;
  region: string;
  /** what the host already carries: live machines, or peers for a gateway */
  load: number;
  /** false: silent past the host timeout; it gets nothing new (absent: reachable) */
  reachable?: boolean;
}

const isReachable = (c: Candidate): boolean => c.reachable !== false;

/** Least loaded first, lowest id on ties. */
const byLoad = (a: Candidate, b: Candidate): number => a.load - b.load || a.id - b.id;

/** The reachable host of `region` with the fewest live machines (lowest id on ties). */
export function placeMachine(hosts: readonly Candidate[], region: string): number {
  const all = hosts.filter((h) => h.region === region);
  const inRegion = all.filter(isReachable).sort(byLoad);
  if (inRegion.length === 0) {
    throw new AppError(
      'no_host',
      all.length === 0
        ? `no host in region ${region} to place the machine on`
        : `no reachable host in region ${region} to place the machine on (unreachable: ${all.map((h) => h.id).join(', ')})`,
    );
  }
  return inRegion[0]!.id;
}

/**
 * The reachable gateway of `region` carrying the fewest peers (lowest id on ties).
 * With none there, the error names the three nearest regions that have one.
 */
export function placePeer(candidates: readonly Candidate[], region: Region, regions: ReadonlyMap<string, Region>): number {
  // An unreachable gateway is not chosen, nor offered as a nearest one.
  const gateways = candidates.filter(isReachable);
  const inRegion = gateways.filter((g) => g.region === region.code).sort(byLoad);
  if (inRegion.length > 0) return inRegion[0]!.id;
  const nearest = [...new Set(gateways.map((g) => g.region))]
    .map((code) => ({ code, km: regionDistanceKm(region, regions.get(code)!) }))
    .sort((a, b) => a.km - b.km)
    .slice(0, 3)
    .map((r) => r.code);
  throw new AppError(
    'no_gateway',
    nearest.length
      ? `no gateway in region ${region.code}; nearest gateways: ${nearest.join(', ')}`
      : `no gateway in region ${region.code}; no gateway host is enrolled anywhere`,
  );
}
