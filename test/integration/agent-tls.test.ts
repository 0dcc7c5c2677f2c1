// The agent's coordinator transport: its API calls (enroll, status reports,
// metadata writes) verify an https coordinator against --ca like its feed,
// and `sixpn agent` refuses plain HTTP off loopback unless --insecure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, CoordinatorApi } from '../../src/client/api.js';
import { startCoordinator, type RunningCoordinator } from '../../src/coordinator/run.js';
import { coordinatorFetchInit, CoordinatorCertError } from '../../src/feed/tls.js';
import { silentLogger } from '../../src/log.js';
import { KEY_A, KEY_B } from '../../testkit/coordinator.js';
import { runCli } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

const openssl = (cwd: string, ...args: string[]): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

describe('agent ↔ coordinator over TLS (--ca, --insecure)', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof tempDir>;
  let coord: RunningCoordinator;
  let enrollToken: string;

  before(async () => {
    dir = tempDir('sixpn-agent-tls-');
    openssl(
      dir.path,
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    writeFileSync(join(dir.path, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
    openssl(
      dir.path,
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=server',
    );
    openssl(
      dir.path,
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    );
    coord = await startCoordinator({
      dataDir: join(dir.path, 'data'),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      announce: () => undefined,
      tls: { certFile: join(dir.path, 'server.pem'), keyFile: join(dir.path, 'server.key') },
    });
    const res = await fetch(`${coord.url}/v1/tokens`, {
      ...coordinatorFetchInit(coord.url, { caFile: join(dir.path, 'ca.pem') }),
      method: 'POST',
      headers: { authorization: `Bearer ${coord.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'host-enroll' }),
    } as RequestInit);
    enrollToken = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await coord?.close();
    dir?.remove();
  });

  it('enrolls and reports through https with the CA given by --ca', async () => {
    const api = new CoordinatorApi(coord.url, enrollToken, 10_000, coordinatorFetchInit(coord.url, { caFile: join(dir.path, 'ca.pem') }));
    const r = await api.enroll({ region: 'ams', endpoint: '192.0.2.1:51820', public_key: KEY_A, gateway: false });
    assert.equal(r.host.region, 'ams');
    api.setToken(r.credential);
    await assert.rejects(api.updateEndpoint(r.host.id + 1, '192.0.2.9:51820'), (e: unknown) => e instanceof ApiError && e.status === 403);
    assert.equal((await api.updateEndpoint(r.host.id, '192.0.2.9:51820')).host.endpoint, '192.0.2.9:51820');
  });

  it('refuses a coordinator whose certificate does not verify, saying so', async () => {
    const api = new CoordinatorApi(coord.url, enrollToken);
    await assert.rejects(
      api.enroll({ region: 'ams', endpoint: '192.0.2.2:51820', public_key: KEY_B, gateway: false }),
      (e: unknown) => e instanceof CoordinatorCertError && /give the CA that signed it with --ca FILE/.test(e.message),
    );
  });

  it('`sixpn agent` refuses plain HTTP off loopback without --insecure, and an unusable --ca (exit 2, before doing anything)', async function () {
    if (process.getuid?.() !== 0) this.skip(); // the root check comes first
    const base = ['agent', '--enroll-token', 'x', '--region', 'ams', '--endpoint', '192.0.2.1:51820', '--state-dir', join(dir.path, 'state')];
    const plain = await runCli([...base, '--coordinator', 'http://192.0.2.10:4280']);
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /refusing plain HTTP to 192\.0\.2\.10:4280/);
    const ca = await runCli([...base, '--coordinator', coord.url, '--ca', join(dir.path, 'nope.pem')]);
    assert.equal(ca.code, 2, ca.stderr);
    assert.match(ca.stderr, /--ca .*nope\.pem: ENOENT/);
  });
});
