// Thin HTTP client for the coordinator API; errors become one-line CliErrors.
import { CliError } from './errors.js';
import type { CliConfig } from './config.js';

export class ApiClient {
  constructor(private readonly config: CliConfig) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.config.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.config.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the API at ${this.config.api}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try { data = JSON.parse(text); } catch { data = undefined; }
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new CliError(e ? `${e.message} (${e.code})` : `HTTP ${res.status} from ${method} ${path}`);
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> { return this.call<T>('GET', path); }
  post<T>(path: string, body: unknown = {}): Promise<T> { return this.call<T>('POST', path, body); }
  put<T>(path: string, body: unknown): Promise<T> { return this.call<T>('PUT', path, body); }
  delete<T>(path: string): Promise<T> { return this.call<T>('DELETE', path); }
}
