// What a failed fetch() to the coordinator means, in words an operator can act
// on: certificate problems and plain-HTTP-on-a-TLS-port say so.

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/** The root cause of a fetch() failure ("fetch failed" hides it in `cause`). */
function rootCause(err: unknown): { code?: string; message: string } {
  let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  for (let i = 0; i < 5 && e && e.cause && !e.code; i++) e = e.cause as typeof e;
  return { code: e?.code, message: e?.message ?? String(err) };
}

export class CoordinatorCertError extends Error {
  override name = 'CoordinatorCertError';
  constructor(
    readonly url: string,
    readonly code: string,
    detail: string,
  ) {
    super(
      `the coordinator at ${url} presented a certificate that does not verify (${code}: ${detail}); ` +
        'give the CA that signed it with --ca FILE, or fix the certificate (it must name the host in the URL)',
    );
  }
}

/** A clearer error for a failed request to the coordinator: certificate problems say so. */
export function explainFetchError(err: unknown, url: string): Error {
  const c = rootCause(err);
  if (c.code && CERT_CODES.has(c.code)) {
    let origin = url;
    try {
      origin = new URL(url).origin;
    } catch {
      /* keep it */
    }
    return new CoordinatorCertError(origin, c.code, c.message);
  }
  if (c.code === 'EPROTO' || /wrong version number|packet length too long/i.test(c.message)) {
    // OpenSSL's "…:SSL routines:ssl3_get_record:wrong version number:file:line:" → its reason.
    const reason = /SSL routines:[^:]*:([^:]+):/.exec(c.message)?.[1] ?? c.message.trim();
    return new Error(`TLS handshake with ${url} failed (${reason}): is the coordinator serving HTTPS on that port?`);
  }
  return err instanceof Error && c.message && c.message !== err.message
    ? new Error(`${err.message}: ${c.code ? `${c.code} ` : ''}${c.message}`)
    : (err as Error);
}
