// Small text forms for the page (pure, unit-tested).

/** "never", "4 s ago", "3 min ago", "2 h ago", "5 d ago". */
export function ago(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'never';
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Age of a WireGuard handshake given as unix seconds (0: none yet). */
export function handshakeAge(unixSeconds: number, nowMs: number): string {
  return unixSeconds > 0 ? ago(nowMs / 1000 - unixSeconds) : 'never';
}

/** Age of an ISO timestamp. */
export function isoAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? String(iso) : ago((nowMs - t) / 1000);
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** HH:MM:SS of an ISO timestamp, in the viewer's zone. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** Case-insensitive match of a filter text against any of the given fields. */
export function matches(filter: string, ...fields: (string | number | null | undefined)[]): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return fields.some((x) => x !== null && x !== undefined && String(x).toLowerCase().includes(f));
}
