// `sixpn dig` and GET /v1/orgs/:org/dig against a real `sixpn up`: the DNS
// servers' answers, through the API, scoped to the asking org.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

describe('sixpn dig against `sixpn up`', function () {
  this.timeout(60_000);
  const dir = tempDir();
  const env = { SIXPN_CONFIG: join(dir.path, 'cli.json'), HOME: dir.path, SIXPN_API_URL: '', SIXPN_TOKEN: '', SIXPN_TOKEN_FILE: '', SIXPN_CA: '' };
  const dnsPort = 20000 + Math.floor(Math.random() * 20000);
  let up: Proc | null = null;
  let api = '';
  const cli = (...args: string[]) => runCli(args, env);
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  let m1: { id: string; address: string };
  let acmeToken = '';

  before(async () => {
    up = sixpn(['up', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--dns', `127.0.0.1:${dnsPort}`, '--no-agent'], env);
    api = (await up.waitFor(/API\s+(http:\/\/\S+)/))[1]!;
    await up.waitFor(/sixpn is up/);
    await ok('apps', 'create', 'site', '--org', 'personal');
    m1 = JSON.parse((await ok('machines', 'create', '--app', 'site', '--region', 'local', '--json')).stdout);
    await ok('orgs', 'create', 'acme');
    await ok('apps', 'create', 'secret', '--org', 'acme');
    await ok('machines', 'create', '--app', 'secret', '--region', 'local');
    acmeToken = JSON.parse((await ok('tokens', 'create', '--scope', 'org', '--org', 'acme', '--json')).stdout).token;
  });
  after(async () => {
    await up?.kill('SIGKILL');
    dir.remove();
  });

  it('answers like the DNS server, printed like dig', async () => {
    const r = await ok('dig', 'site.internal', '--org', 'personal');
    assert.match(r.stdout, /status: NOERROR/);
    assert.match(r.stdout, new RegExp(`^site\\.internal\\.\\s+5\\s+IN\\s+AAAA\\s+${m1.address}$`, 'm'));
    const viaDns = execFileSync('dig', ['@127.0.0.1', '-p', String(dnsPort), '+short', 'site.internal', 'AAAA'], { encoding: 'utf8' }).trim();
    assert.equal(viaDns, m1.address, 'the DNS server (loopback = org personal) agrees');
    const txt = JSON.parse((await ok('dig', '_apps.internal', 'txt', '--org', 'personal', '--json')).stdout);
    assert.deepEqual(
      txt.answers.map((a: { data: string }) => a.data),
      ['"site"'],
      "only the asking org's apps",
    );
    const nx = await ok('dig', 'nope.internal', '--org', 'personal');
    assert.match(nx.stdout, /status: NXDOMAIN/);
    assert.match(nx.stdout, /AUTHORITY SECTION:\ninternal\.\s+5\s+IN\s+SOA/);
  });

  it("never shows another org's names (attacker: an org token reaching across)", async () => {
    // acme's own token sees acme's app, not personal's
    const own = JSON.parse((await ok('dig', 'secret.internal', '--org', 'acme', '--api', api, '--token', acmeToken, '--json')).stdout);
    assert.equal(own.answers.length, 1);
    const across = JSON.parse((await ok('dig', 'site.internal', '--org', 'acme', '--api', api, '--token', acmeToken, '--json')).stdout);
    assert.equal(across.status, 'NXDOMAIN', "personal's app is not in acme's .internal");
    // and cannot ask as another org
    const r = await cli('dig', 'site.internal', '--org', 'personal', '--api', api, '--token', acmeToken);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sixpn dig: this token belongs to org acme, not personal \(forbidden\)\n$/);
    const res = await fetch(`${api}/v1/orgs/personal/dig?name=site.internal`, { headers: { authorization: `Bearer ${acmeToken}` } });
    assert.equal(res.status, 403);
    const anon = await fetch(`${api}/v1/orgs/personal/dig?name=site.internal`);
    assert.equal(anon.status, 401);
  });

  it('bad input: exit 2 with usage; unreachable or refused: exit 1 naming which', async () => {
    for (const [args, re] of [
      [['dig', '--org', 'personal'], /missing argument/],
      [['dig', 'site.internal'], /--org is required/],
      [['dig', 'site.internal', 'MX', '--org', 'personal'], /TYPE must be one of/],
      [['dig', 'bad name!', '--org', 'personal'], /not a DNS name/],
      [['dig', 'site.internal', '--org', 'personal', '--bogus'], /Unknown option/],
    ] as const) {
      const r = await cli(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.split('\n')[0]!, re);
      assert.match(r.stderr, /usage: sixpn dig NAME \[TYPE\] --org ORG/);
    }
    const down = await cli('dig', 'x.internal', '--org', 'personal', '--api', 'http://127.0.0.1:47', '--token', 'x');
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^sixpn dig: cannot reach the API at http:\/\/127\.0\.0\.1:47: ECONNREFUSED\n$/);
    const refused = await cli('dig', 'x.internal', '--org', 'personal', '--api', api, '--token', 'nope');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /token/);
    const nonet = await cli('dig', 'x.internal', '--org', 'personal', '--network', 'nosuch');
    assert.equal(nonet.code, 1);
    assert.match(nonet.stderr, /no network nosuch/);
    const outside = await cli('dig', 'example.com', '--org', 'personal');
    assert.equal(outside.code, 1, 'REFUSED: names outside .internal are not forwarded by the API');
  });
});
