// The few coordinator calls an agent makes (besides the watch stream).
import { explainFetchError } from '../feed/tls.js';
import type { Host, Machine } from '../model/types.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface PeerStatus {
  org: string;
  name: string;
  latest_handshake: number;
  rx_bytes: number;
  tx_bytes: number;
  endpoint: string | null;
}

export class CoordinatorApi {
  /**
   * `init` is spread into every fetch: coordinatorFetchInit()'s dispatcher
   * when the coordinator's certificate comes from a private CA (--ca).
   */
  constructor(private readonly base: string, private token: string, private readonly timeoutMs = 10_000, private readonly init: Record<string, unknown> = {}) {}

  setToken(token: string): void {
    this.token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base.replace(/\/$/, '')}${path}`;
    const res = await fetch(url, {
      ...this.init,
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: unknown) => { throw explainFetchError(err, url); });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(res.status, e?.code ?? 'http_error', `${method} ${path}: ${e?.message ?? `HTTP ${res.status} ${text.slice(0, 200)}`}`);
    }
    return json as T;
  }

  enroll(body: { region: string; endpoint: string; public_key: string; gateway: boolean }): Promise<{ host: Host; credential: string }> {
    return this.call('POST', '/v1/hosts', body);
  }

  reportMachine(id: string, state: 'started' | 'stopped' | 'failed', reason: string | null): Promise<{ machine: Machine }> {
    return this.call('PUT', `/v1/machines/${encodeURIComponent(id)}/status`, reason === null ? { state } : { state, reason: reason.slice(0, 1000) });
  }

  /** The host credential may change the metadata of machines on its own host only. */
  setMetadata(id: string, key: string, value: string | null): Promise<{ machine: Machine }> {
    const path = `/v1/machines/${encodeURIComponent(id)}/metadata/${encodeURIComponent(key)}`;
    return value === null ? this.call('DELETE', path) : this.call('PUT', path, { value });
  }

  /** A host moves its own endpoint (its `--endpoint` changed since enrollment). */
  updateEndpoint(hostId: number, endpoint: string): Promise<{ host: Host }> {
    return this.call('PATCH', `/v1/hosts/${hostId}`, { endpoint });
  }

  reportPeers(hostId: number, peers: PeerStatus[]): Promise<void> {
    return this.call('PUT', `/v1/hosts/${hostId}/peer-status`, { peers });
  }
}
