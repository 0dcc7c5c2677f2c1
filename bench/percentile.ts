// Nearest-rank percentiles of a small sample (the health and lease benches' trials).

export function pct(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A non-negative number from the environment, or exit 2 with what is wrong. */
export function envNumber(name: string, dflt: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`${name} must be a non-negative number`);
    process.exit(2);
  }
  return v;
}
