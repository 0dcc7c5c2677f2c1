// What a coordinator call can fail with (no imports: the CLI's error
// reporting loads this on every run).

/** The coordinator answered with an error. */
export class ApiError extends Error {
  override name = 'ApiError';
  /**
   * @param status HTTP status
   * @param code the API's error code (`not_found`…), `http_error` when the body had none
   * @param message `METHOD PATH: why` (for logs)
   * @param summary `why (code)` (for one line of CLI output)
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly summary: string = message,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

/** No answer: refused, timed out, DNS… (a certificate that does not verify is a CoordinatorCertError). */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the API at ${url}: ${reason}`);
  }
}
