// HTTPS end to end with certificates made here by openssl: the coordinator
// serves TLS (--tls-cert/--tls-key), feed clients verify it against --ca,
// refuse a certificate that does not verify with a clear message, and refuse
// plain HTTP to a non-loopback coordinator unless told --insecure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/run.js';
import { FeedClient } from '../../src/feed/client.js';
import { Replica } from '../../src/feed/replica.js';
import {
  checkCoordinatorUrl,
  coordinatorFetchInit,
  CoordinatorCertError,
  explainFetchError,
  isLoopbackHost,
  loadCoordinatorTls,
  TlsConfigError,
} from '../../src/feed/tls.js';
import { silentLogger } from '../../src/log.js';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';
import { until } from '../../testkit/until.js';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a server certificate it signs, for the names given (e.g. IP:127.0.0.1,DNS:localhost). */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}
function makeServerCert(dir: string, ca: string, name: string, san: string): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(
    dir,
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  );
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  );
}

describe('TLS between the coordinator and its feed clients', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof tempDir>;
  const f = (name: string): string => join(dir.path, name);
  let coord: RunningCoordinator;
  let wrongName: RunningCoordinator;
  const clients: FeedClient[] = [];
  const procs: Proc[] = [];

  before(async () => {
    dir = tempDir('sixpn-tls-');
    makeCa(dir.path, 'ca');
    makeCa(dir.path, 'rogue-ca');
    makeServerCert(dir.path, 'ca', 'server', 'IP:127.0.0.1,DNS:localhost');
    makeServerCert(dir.path, 'ca', 'elsewhere', 'DNS:coordinator.example');
    coord = await startCoordinator({
      dataDir: f('data'),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      announce: () => undefined,
      tls: { certFile: f('server.pem'), keyFile: f('server.key') },
    });
    wrongName = await startCoordinator({
      dataDir: f('data2'),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      announce: () => undefined,
      tls: { certFile: f('elsewhere.pem'), keyFile: f('elsewhere.key') },
    });
  });
  after(async () => {
    try {
      for (const c of clients) await c.stop();
      for (const p of procs) await p.kill('SIGKILL');
      await coord?.close();
      await wrongName?.close();
    } finally {
      dir?.remove();
    }
  });

  function feed(url: string, tls: { ca?: string; insecure?: boolean } | undefined): { client: FeedClient; replica: Replica; certErrors: Error[] } {
    const replica = new Replica();
    const client = new FeedClient({ url, token: coord.adminToken!, replica, tls, minBackoffMs: 50, maxBackoffMs: 200 });
    const certErrors: Error[] = [];
    client.subscribe({ tlsError: (e) => certErrors.push(e) });
    clients.push(client);
    client.start();
    return { client, replica, certErrors };
  }

  it('serves HTTPS and a feed client that trusts the CA (--ca) gets the snapshot', async () => {
    assert.match(coord.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { replica } = feed(coord.url, loadCoordinatorTls({ caFile: f('ca.pem') }));
    await until(() => replica.ready);
    assert.ok(replica.regions.size >= 30);
  });

  it('verifies the name too: https://localhost works with the same certificate', async () => {
    const { replica } = feed(coord.url.replace('127.0.0.1', 'localhost'), { ca: readFileSync(f('ca.pem'), 'utf8') });
    await until(() => replica.ready);
  });

  for (const [what, tls, code] of [
    ['no --ca (system CAs only)', {}, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['a --ca that did not sign it', { caFile: 'rogue-ca.pem' }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  ] as const) {
    it(`refuses a coordinator whose certificate does not verify: ${what}`, async () => {
      const t = 'caFile' in tls ? loadCoordinatorTls({ caFile: f(tls.caFile) }) : {};
      const { replica, certErrors, client } = feed(coord.url, t);
      await until(() => certErrors.length >= 2);
      await client.stop();
      assert.equal(replica.ready, false, 'no data from a coordinator that is not trusted');
      const e = certErrors[0]!;
      assert.ok(e instanceof CoordinatorCertError);
      assert.equal((e as CoordinatorCertError).code, code);
      assert.match(
        e.message,
        /^the coordinator at https:\/\/127\.0\.0\.1:\d+ presented a certificate that does not verify \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: .+\); give the CA that signed it with --ca FILE/,
      );
    });
  }

  it('refuses a certificate for another name, saying so', async () => {
    const { certErrors, replica, client } = feed(wrongName.url, { ca: readFileSync(f('ca.pem'), 'utf8') });
    await until(() => certErrors.length >= 1);
    await client.stop();
    assert.equal(replica.ready, false);
    assert.equal((certErrors[0] as CoordinatorCertError).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(
      certErrors[0]!.message,
      /does not verify \(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/,
    );
  });

  it('refuses plain HTTP to a non-loopback coordinator unless --insecure', () => {
    assert.throws(
      () => checkCoordinatorUrl('http://192.0.2.10:4280'),
      (e: unknown) => e instanceof TlsConfigError && /refusing plain HTTP to 192\.0\.2\.10:4280/.test(e.message),
    );
    assert.throws(() => new FeedClient({ url: 'http://[fdaa:0:1::2]:4280', token: 't', replica: new Replica(), tls: {} }), TlsConfigError);
    assert.equal(checkCoordinatorUrl('http://192.0.2.10:4280', { insecure: true }).host, '192.0.2.10:4280');
    for (const ok of ['http://127.0.0.1:4280', 'http://127.1.2.3', 'http://[::1]:4280', 'http://localhost:4280', 'https://192.0.2.10']) checkCoordinatorUrl(ok);
    assert.throws(() => checkCoordinatorUrl('http://127.0.0.1:4280', { ca: 'x' }), /--ca only applies to an https/);
    assert.throws(() => checkCoordinatorUrl('ftp://127.0.0.1'), TlsConfigError);
    assert.equal(isLoopbackHost('[::ffff:127.0.0.1]'), true);
    assert.equal(isLoopbackHost('127.example.com'), false);
  });

  it('names --ca when its file is missing or holds no certificate', () => {
    assert.throws(
      () => loadCoordinatorTls({ caFile: f('nope.pem') }),
      (e: unknown) => e instanceof TlsConfigError && e.message.startsWith(`--ca ${f('nope.pem')}: ENOENT`),
    );
    assert.throws(() => loadCoordinatorTls({ caFile: f('ca.key') }), /--ca .*ca\.key: no PEM certificate in the file/);
  });

  it('gives other fetch() calls the same policy (coordinatorFetchInit)', async () => {
    const init = coordinatorFetchInit(coord.url, { caFile: f('ca.pem') });
    const res = await fetch(`${coord.url}/healthz`, { ...init } as RequestInit);
    assert.equal(res.status, 200);
    const err = await fetch(`${coord.url}/healthz`).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(explainFetchError(err, coord.url) instanceof CoordinatorCertError);
    assert.throws(() => coordinatorFetchInit('http://198.51.100.1:4280'), TlsConfigError);
  });

  it('explains an https:// client talking to a plain HTTP port', async () => {
    const plain = await startCoordinator({ dataDir: f('data3'), host: '127.0.0.1', port: 0, logger: silentLogger, announce: () => undefined });
    try {
      const url = plain.url.replace('http:', 'https:');
      const err = await fetch(`${url}/healthz`).then(
        () => null,
        (e: unknown) => e,
      );
      assert.match(
        explainFetchError(err, url).message,
        /^TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed \(wrong version number\): is the coordinator serving HTTPS on that port\?$/,
      );
    } finally {
      await plain.close();
    }
  });

  it('sixpn coordinator --tls-cert/--tls-key serves HTTPS; the CLI trusts the CA through NODE_EXTRA_CA_CERTS', async () => {
    const p = sixpn(['coordinator', '--data', f('cli'), '--listen', '127.0.0.1:0', '--tls-cert', f('server.pem'), '--tls-key', f('server.key')]);
    procs.push(p);
    const url = (await p.waitFor(/"url":"(https:\/\/[^"]+)"/))[1]!;
    const token = readFileSync(f('cli/admin.token'), 'utf8').trim();
    const ok = await runCli(['orgs', 'create', 'acme', '--api', url, '--token', token, '--json'], { NODE_EXTRA_CA_CERTS: f('ca.pem') });
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await runCli(['orgs', 'list', '--api', url, '--token', token]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('exits 2 naming the flag for a missing, unreadable or mismatched certificate or key', async () => {
    const missing = await runCli(['coordinator', '--data', f('bad'), '--tls-cert', f('none.pem'), '--tls-key', f('server.key')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--tls-cert .*none\.pem: ENOENT/);
    const mismatched = await runCli(['coordinator', '--data', f('bad'), '--tls-cert', f('server.pem'), '--tls-key', f('elsewhere.key')]);
    assert.equal(mismatched.code, 2);
    assert.match(mismatched.stderr, /--tls-cert .*server\.pem \/ --tls-key .*elsewhere\.key: .*key values mismatch/);
    const alone = await runCli(['coordinator', '--data', f('bad'), '--tls-cert', f('server.pem')]);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--tls-cert and --tls-key go together/);
  });
});
