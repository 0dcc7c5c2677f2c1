// The coordinator's HTTP API as typed calls: one client for the CLI and the
// agent (the watch stream has its own, src/feed/client.ts).
import { CoordinatorCertError, explainFetchError } from '../feed/fetch-error.js';
import type { App, Host, Lease, Machine, Network, Org, Peer } from '../model/types.js';
import type { HostReport } from '../model/host-report.js';
import { ApiError, UnreachableError } from './errors.js';
import { userAgent } from '../version.js';
import type { DigAnswer } from '../dns/dig.js';
import type {
  AppCreate,
  HostEnroll,
  HostEnrolled,
  HostListed,
  HostRemoved,
  MachineCreate,
  MachineReport,
  OrgCreated,
  OrgDetail,
  PeerCreate,
  PeerCreated,
  PeerDetail,
  PeerListed,
  PeerStatus,
  TokenCreate,
  TokenCreated,
  TokenRecord,
} from './types.js';

export { ApiError } from './errors.js';
export type { PeerStatus } from './types.js';

const enc = encodeURIComponent;

export class CoordinatorApi {
  private readonly base: string;

  /**
   * `init` is spread into every fetch: coordinatorFetchInit()'s dispatcher
   * when the coordinator's certificate comes from a private CA (--ca); or a
   * function making them on the first call (the CLI loads undici only then).
   */
  constructor(
    base: string,
    private token: string,
    private readonly timeoutMs = 10_000,
    private init: Record<string, unknown> | (() => Promise<Record<string, unknown>>) = {},
    /** who is asking: userAgent('cli') or userAgent('agent') */
    private readonly agent = userAgent('cli'),
  ) {
    this.base = base.replace(/\/$/, '');
  }

  setToken(token: string): void {
    this.token = token;
  }

  /** One call; errors: ApiError (an answer), UnreachableError or CoordinatorCertError (none). */
  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = `${this.base}${path}`;
    if (typeof this.init === 'function') this.init = await this.init();
    const res = await fetch(url, {
      ...this.init,
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'user-agent': this.agent,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: unknown) => {
      throw this.unreachable(err, url);
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
      const why = e?.message ?? `HTTP ${res.status} ${text.slice(0, 200)}`.trim();
      throw new ApiError(
        res.status,
        e?.code ?? 'http_error',
        `${method} ${path}: ${why}`,
        e?.message ? `${e.message} (${e.code ?? 'http_error'})` : `HTTP ${res.status} from ${method} ${path}`,
        json,
      );
    }
    return json as T;
  }

  private unreachable(err: unknown, url: string): Error {
    if ((err as Error).name === 'TimeoutError') return new UnreachableError(this.base, `no answer in ${this.timeoutMs / 1000} s`);
    const e = explainFetchError(err, url);
    if (e instanceof CoordinatorCertError || e.message.startsWith('TLS handshake')) return e;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new UnreachableError(this.base, cause?.code ?? cause?.message ?? (err as Error).message);
  }

  // ── orgs, apps ───────────────────────────────────────────────────────────
  createOrg(name: string): Promise<OrgCreated> {
    return this.call('POST', '/v1/orgs', { name });
  }
  listOrgs(): Promise<{ orgs: Org[] }> {
    return this.call('GET', '/v1/orgs');
  }
  getOrg(name: string): Promise<OrgDetail> {
    return this.call('GET', `/v1/orgs/${enc(name)}`);
  }
  createApp(body: AppCreate): Promise<{ app: App }> {
    return this.call('POST', '/v1/apps', body);
  }
  listApps(org: string): Promise<{ apps: App[] }> {
    return this.call('GET', `/v1/apps?org=${enc(org)}`);
  }
  createNetwork(org: string, name: string): Promise<{ network: Network }> {
    return this.call('POST', `/v1/orgs/${enc(org)}/networks`, { name });
  }
  listNetworks(org: string): Promise<{ networks: Network[] }> {
    return this.call('GET', `/v1/orgs/${enc(org)}/networks`);
  }

  // ── machines ─────────────────────────────────────────────────────────────
  createMachine(body: MachineCreate): Promise<{ machine: Machine }> {
    return this.call('POST', '/v1/machines', body);
  }
  listMachines(app: string, all = false): Promise<{ machines: Machine[] }> {
    return this.call('GET', `/v1/machines?app=${enc(app)}${all ? '&all=true' : ''}`);
  }
  getMachine(id: string): Promise<{ machine: Machine }> {
    return this.call('GET', `/v1/machines/${enc(id)}`);
  }
  startMachine(id: string): Promise<{ machine: Machine }> {
    return this.call('POST', `/v1/machines/${enc(id)}/start`);
  }
  stopMachine(id: string): Promise<{ machine: Machine }> {
    return this.call('POST', `/v1/machines/${enc(id)}/stop`);
  }
  destroyMachine(id: string): Promise<{ machine: Machine }> {
    return this.call('DELETE', `/v1/machines/${enc(id)}`);
  }

  /** A host agent reports what became of a machine it runs. */
  reportMachine(id: string, state: MachineReport, reason: string | null): Promise<{ machine: Machine }> {
    return this.call('PUT', `/v1/machines/${enc(id)}/status`, reason === null ? { state } : { state, reason: reason.slice(0, 1000) });
  }

  getMetadata(id: string): Promise<{ metadata: Record<string, string> }> {
    return this.call('GET', `/v1/machines/${enc(id)}/metadata`);
  }

  /** The host credential may change the metadata of machines on its own host only; `ifMatch`: only at that metadata revision. */
  setMetadata(id: string, key: string, value: string | null, ifMatch?: number): Promise<{ machine: Machine }> {
    const path = `/v1/machines/${enc(id)}/metadata/${enc(key)}`;
    const h: Record<string, string> = ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` };
    return value === null ? this.call('DELETE', path, undefined, h) : this.call('PUT', path, { value }, h);
  }

  /** A host agent reports the outcome of a machine's checks. */
  reportHealth(id: string, health: 'passing' | 'critical'): Promise<{ machine: Machine }> {
    return this.call('PUT', `/v1/machines/${enc(id)}/health`, { health });
  }

  /** Acquire or renew a lease for a machine; a 409 ApiError's body carries `lease` (the holder). */
  acquireLease(id: string, name: string, ttl: number): Promise<{ lease: Lease }> {
    return this.call('PUT', `/v1/machines/${enc(id)}/leases/${enc(name)}`, { ttl });
  }

  releaseLease(id: string, name: string): Promise<{ lease: Lease }> {
    return this.call('DELETE', `/v1/machines/${enc(id)}/leases/${enc(name)}`);
  }

  readLease(id: string, name: string): Promise<{ lease: Lease }> {
    return this.call('GET', `/v1/machines/${enc(id)}/leases/${enc(name)}`);
  }

  dig(org: string, q: { name: string; type: string; network?: string }): Promise<DigAnswer> {
    const qs = new URLSearchParams({ name: q.name, type: q.type, ...(q.network ? { network: q.network } : {}) });
    return this.call('GET', `/v1/orgs/${enc(org)}/dig?${qs.toString()}`);
  }

  // ── hosts ────────────────────────────────────────────────────────────────
  listHosts(): Promise<{ hosts: HostListed[] }> {
    return this.call('GET', '/v1/hosts');
  }
  /** Admin: remove a host (force: also the developer peers a gateway carries). */
  removeHost(id: number, force: boolean): Promise<HostRemoved> {
    return this.call('DELETE', `/v1/hosts/${id}${force ? '?force=true' : ''}`);
  }
  /** A host agent says it is alive, with its report (handshakes, replica revisions) when it has one. */
  heartbeat(hostId: number, report?: HostReport): Promise<void> {
    return this.call('PUT', `/v1/hosts/${hostId}/heartbeat`, report);
  }
  getHost(id: number): Promise<{ host: HostListed }> {
    return this.call('GET', `/v1/hosts/${id}`);
  }
  enroll(body: HostEnroll): Promise<HostEnrolled> {
    return this.call('POST', '/v1/hosts', body);
  }

  /** A host moves its own endpoint (its `--endpoint` changed since enrollment). */
  updateEndpoint(hostId: number, endpoint: string): Promise<{ host: Host }> {
    return this.updateHost(hostId, { endpoint });
  }

  /** A host reports its new endpoint and/or the sixpn version it now runs. */
  updateHost(hostId: number, patch: { endpoint?: string; version?: string }): Promise<{ host: Host }> {
    return this.call('PATCH', `/v1/hosts/${hostId}`, patch);
  }

  /** A gateway reports its developer peers' handshakes and counters. */
  reportPeers(hostId: number, peers: PeerStatus[]): Promise<void> {
    return this.call('PUT', `/v1/hosts/${hostId}/peer-status`, { peers });
  }

  // ── developer peers ──────────────────────────────────────────────────────
  createPeer(org: string, body: PeerCreate): Promise<PeerCreated> {
    return this.call('POST', `/v1/orgs/${enc(org)}/peers`, body);
  }
  listPeers(org: string): Promise<{ peers: PeerListed[] }> {
    return this.call('GET', `/v1/orgs/${enc(org)}/peers`);
  }
  getPeer(org: string, name: string): Promise<PeerDetail> {
    return this.call('GET', `/v1/orgs/${enc(org)}/peers/${enc(name)}`);
  }
  removePeer(org: string, name: string): Promise<{ peer: Peer }> {
    return this.call('DELETE', `/v1/orgs/${enc(org)}/peers/${enc(name)}`);
  }

  // ── tokens ───────────────────────────────────────────────────────────────
  createToken(body: TokenCreate): Promise<TokenCreated> {
    return this.call('POST', '/v1/tokens', body);
  }
  revokeToken(id: string): Promise<{ revoked: string }> {
    return this.call('DELETE', `/v1/tokens/${enc(id)}`);
  }
  listTokens(org?: string): Promise<{ tokens: TokenRecord[] }> {
    return this.call('GET', `/v1/tokens${org ? `?org=${enc(org)}` : ''}`);
  }
}
