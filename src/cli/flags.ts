// Flag values → typed values, one parser per kind, each throwing a UsageError
// that names the flag (exit 2). Every command uses these, so `--listen` means
// the same thing under `up`, `coordinator` and `dns`.
import { isIP } from 'node:net';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../log-levels.js';
import { isDnsLabel, parseEndpoint, TTL_MAX_SECONDS } from '../validate.js';
import { UsageError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * HOST[:PORT] split: `[v6]:p`, `v4:p`, `name:p`, or (with `defaultPort`)
 * a bare host, a bare IPv6 included. Null when malformed or the port is
 * out of 0..65535.
 */
export function splitHostPort(s: string, defaultPort?: number): HostPort | null {
  let host: string;
  let port: string | undefined;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (br) {
    host = br[1]!;
    port = br[2];
    if (isIP(host) !== 6) return null;
  } else if (isIP(s) === 6) host = s;
  else {
    const i = s.lastIndexOf(':');
    if (i < 0) host = s;
    else {
      host = s.slice(0, i);
      port = s.slice(i + 1);
    }
    if (host.includes(':')) return null;
  }
  if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return null;
  if (port === undefined) return defaultPort === undefined ? null : { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
  return { host, port: Number(port) };
}

/** IP[:PORT], never a name (an upstream resolver given by name could resolve through us). */
export function parseIpPort(s: string, defaultPort?: number): HostPort | null {
  const r = splitHostPort(s, defaultPort);
  return r && isIP(r.host) ? r : null;
}

/** A listen address: HOST:PORT, HOST an IP ([IPv6]) or a name. */
export function hostPort(value: string, flag: string): HostPort {
  const r = splitHostPort(value);
  if (!r) throw new UsageError(`--${flag} ${q(value)} is not HOST:PORT`);
  return r;
}

/** An address given as IP:PORT, or IP[:PORT] when there is a default port. */
export function ipPort(value: string, flag: string, defaultPort?: number): HostPort {
  const r = parseIpPort(value, defaultPort);
  if (!r) throw new UsageError(`--${flag} ${q(value)} is not ${defaultPort === undefined ? 'HOST:PORT (HOST an IP address, IPv6 in brackets)' : 'IP[:PORT]'}`);
  return r;
}

/** Where others reach us (a WireGuard endpoint): HOST:PORT, port 1..65535. */
export function endpoint(value: string, flag: string): string {
  if (!parseEndpoint(value)) throw new UsageError(`--${flag} ${q(value)} is not HOST:PORT`);
  return value;
}

/** An integer in lo..hi (decimal digits only: no sign, no exponent). */
export function intIn(value: string, flag: string, lo: number, hi: number): number {
  if (!/^\d{1,16}$/.test(value) || Number(value) < lo || Number(value) > hi)
    throw new UsageError(`--${flag} must be an integer in ${lo}..${hi}, got ${q(value)}`);
  return Number(value);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A duration (`90s`, `10m`, `24h`, `30d`) in seconds, within lo..hi seconds.
 * `bare` lets a plain number mean seconds (for flags that always took seconds).
 */
export function duration(value: string, flag: string, o: { lo?: number; hi?: number; bare?: boolean } = {}): number {
  const lo = o.lo ?? 0;
  const hi = o.hi ?? Number.MAX_SAFE_INTEGER;
  const m = /^(\d{1,12})([smhd])?$/.exec(value);
  const s = m && (m[2] || o.bare) ? Number(m[1]) * UNIT_SECONDS[m[2] ?? 's']! : NaN;
  if (!(s >= lo && s <= hi)) {
    throw new UsageError(`--${flag} must be a duration like 90s, 10m, 24h or 30d${o.bare ? ' (or seconds)' : ''}, ${fmtRange(lo, hi)}, got ${q(value)}`);
  }
  return s;
}

/** A token's or an ephemeral peer's --ttl in seconds: 1s..365d. */
export function ttl(value: string, flag = 'ttl'): number {
  return duration(value, flag, { lo: 1, hi: TTL_MAX_SECONDS });
}

function fmtRange(lo: number, hi: number): string {
  const f = (s: number): string =>
    s % 86400 === 0 && s > 0 ? `${s / 86400}d` : s % 3600 === 0 && s > 0 ? `${s / 3600}h` : s % 60 === 0 && s > 0 ? `${s / 60}m` : `${s}s`;
  return hi === Number.MAX_SAFE_INTEGER ? `at least ${f(lo)}` : `${f(lo)}..${f(hi)}`;
}

export function logLevel(value: string, flag = 'log-level'): LogLevel {
  if (!isLogLevel(value)) throw new UsageError(`--${flag} must be one of ${LOG_LEVELS.join(', ')}, got ${q(value)}`);
  return value;
}

/** An org, app, network, region or peer name. */
export function label(value: string, what: string): string {
  if (!isDnsLabel(value)) throw new UsageError(`${what} ${q(value)} is not a DNS label (a-z, 0-9, '-', 1-63 chars, no leading or trailing '-')`);
  return value;
}

/** One of a fixed set. */
export function oneOf<T extends string>(value: string, flag: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got ${q(value)}`);
  return value as T;
}

/** An http(s) URL. */
export function httpUrl(value: string, flag: string): string {
  if (!/^https?:\/\/\S+$/.test(value)) throw new UsageError(`--${flag} must be an http(s) URL, got ${q(value)}`);
  return value;
}

/** PORT/tcp or PORT/udp, port 1..65535. */
export function portProto(value: string, flag: string): { proto: 'tcp' | 'udp'; port: number } {
  const m = /^(\d{1,5})\/(tcp|udp)$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--${flag} ${q(value)}: expected PORT/tcp or PORT/udp`);
  return { proto: m[2] as 'tcp' | 'udp', port: Number(m[1]) };
}
