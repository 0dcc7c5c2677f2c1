// Every error is declared once, with a stable code and its HTTP status.

export const ERROR_STATUS = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  no_host: 422,
  no_gateway: 422,
  host_full: 422,
  exhausted: 422,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export const notFound = (what: string, name: string | number): AppError => new AppError('not_found', `${what} ${JSON.stringify(name)} not found`);
export const conflict = (what: string, name: string | number): AppError => new AppError('conflict', `${what} ${JSON.stringify(name)} already exists`);

/**
 * The operator's configuration is unusable (a flag, a file it names): not an
 * API error. Domain modules throw subclasses; the CLI exits 2 on them.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
