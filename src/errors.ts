// Every error is declared once, with a stable code and its HTTP status, and
// mapped to an HTTP answer in one place for every HTTP app.
import type { FastifyInstance } from 'fastify';

export const ERROR_STATUS = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  unprocessable: 422,
  no_host: 422,
  no_gateway: 422,
  host_full: 422,
  exhausted: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  unavailable: 503,
  internal: 500,
  /** the token was valid but its --ttl has passed */
  token_expired: 401,
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

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export const notFound = (what: string, name: string | number): AppError => new AppError('not_found', `${what} ${JSON.stringify(name)} not found`);
export const conflict = (what: string, name: string | number): AppError => new AppError('conflict', `${what} ${JSON.stringify(name)} already exists`);

/** Fastify codes for HTTP statuses it raises itself (unsupported media type, bad JSON…). */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'invalid',
  422: 'unprocessable',
  429: 'rate_limited',
};

/** Unique-constraint violations that slipped past the explicit checks (concurrent writers). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

export interface HttpErrorAnswer {
  status: number;
  code: ErrorCode;
  message: string;
  /** a fault of ours (500): log it, tell the caller nothing more */
  internal: boolean;
}

/**
 * The one error mapper of every HTTP app (coordinator, machine API): an
 * AppError answers its declared status; fastify's own errors (schema,
 * body too large, bad content type) map by status; anything else is
 * internal and its message stays in the log.
 */
export function httpErrorAnswer(err: unknown, bodyLimit: number): HttpErrorAnswer {
  const answer = (code: ErrorCode, message: string): HttpErrorAnswer => ({ status: ERROR_STATUS[code], code, message, internal: code === 'internal' });
  if (err instanceof AppError) return answer(err.code, err.message);
  const e = err as { validation?: unknown; code?: unknown; statusCode?: number; message?: string };
  if (e.validation) return answer('invalid', String(e.message));
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return answer('too_large', `request body is larger than ${bodyLimit} bytes`);
  if (isUniqueViolation(err)) return answer('conflict', 'already exists');
  const status = e.statusCode ?? 500;
  if (status < 500) return { status, code: CODE_OF_STATUS[status] ?? 'invalid', message: String(e.message), internal: false };
  return answer('internal', 'internal error');
}

/** Install the one error mapper and the one not-found answer on an HTTP app. */
export function answerErrors(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err, req, reply) => {
    const a = httpErrorAnswer(err, bodyLimit);
    if (a.internal) req.log.error({ err }, 'request failed');
    else if (a.status >= 500) req.log.warn({ code: a.code, reason: a.message }, 'request failed');
    return reply.code(a.status).send(errorBody(a.code, a.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
}

/**
 * The operator's configuration is unusable (a flag, a file it names): not an
 * API error. Domain modules throw subclasses; the CLI exits 2 on them.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
