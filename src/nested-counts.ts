// Counts kept two levels deep (host → network → how many, host → org → how
// many), with empty entries removed so a map's keys are what is held.

/** Add `by` to the count of `inner` under `outer`; returns the new count (0 or less: gone). */
export function addCount<K, J>(counts: Map<K, Map<J, number>>, outer: K, inner: J, by: 1 | -1): number {
  let m = counts.get(outer);
  if (!m) counts.set(outer, (m = new Map()));
  const n = (m.get(inner) ?? 0) + by;
  if (n > 0) m.set(inner, n);
  else {
    m.delete(inner);
    if (!m.size) counts.delete(outer);
  }
  return n;
}
