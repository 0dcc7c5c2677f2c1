import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAddress } from '../../src/addr/plan.js';
import { runCli, sixpn, type Proc } from '../../testkit/proc.js';
import { tempDir } from '../../testkit/tmp.js';

describe('CLI against `sixpn up`', function () {
  this.timeout(60_000);
  const dir = tempDir();
  // Keep the test's config away from the user's ~/.config.
  const env = { SIXPN_CONFIG: join(dir.path, 'cli.json'), HOME: dir.path };
  let up: Proc | null = null;
  const dnsPort = 20000 + Math.floor(Math.random() * 20000);
  const dig = (...q: string[]) => execFileSync('dig', ['@127.0.0.1', '-p', String(dnsPort), '+time=2', '+tries=1', ...q], { encoding: 'utf8' });
  const cli = (...args: string[]) => runCli(args, env);

  async function startUp(): Promise<void> {
    up = sixpn(['up', '--data', join(dir.path, 'data'), '--api', '127.0.0.1:0', '--dns', `127.0.0.1:${dnsPort}`, '--no-agent'], env);
    await up.waitFor(/sixpn is up/);
  }
  before(startUp);
  after(async () => {
    await up?.kill('SIGKILL');
    dir.remove();
  });

  it('prints where the dashboard is, with the admin token in the URL fragment', async () => {
    const m = await up!.waitFor(/dashboard +(http:\/\/127\.0\.0\.1:\d+)\/ui#token=(sixpn_admin_\S+)/);
    assert.equal((await fetch(`${m[1]}/ui`)).status, 200);
    assert.match(up!.stdout(), new RegExp(`admin token .*${m[2]}`));
  });

  it('creates an org, an app and a machine whose address follows the plan', async () => {
    assert.equal((await cli('orgs', 'create', 'acme')).code, 0);
    assert.equal((await cli('apps', 'create', 'web', '--org', 'acme')).code, 0);
    const r = await cli('machines', 'create', '--app', 'web', '--region', 'local', '--json');
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    const org = JSON.parse((await cli('orgs', 'show', 'acme', '--json')).stdout);
    const hosts = JSON.parse((await cli('hosts', 'list', '--json')).stdout);
    const p = parseAddress(m.address)!;
    assert.equal(p.networkId, org.org.network_id, "in acme's /48");
    assert.equal(p.hostId, hosts[0].id, "on the local host's /80");
    assert.equal(p.suffix, 2);
    const groups = (m.address as string).split(':');
    assert.equal(
      groups
        .slice(-3, -1)
        .map((g) => g.padStart(4, '0'))
        .join(''),
      m.id.slice(0, 8),
    );
  });

  it('prints human tables without --json', async () => {
    const r = await cli('machines', 'list', '--app', 'web');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ID\s+REGION\s+STATE\s+ADDRESS/);
    assert.match(r.stdout, /started/);
  });

  const errors: { args: string[]; code: number; msg: RegExp }[] = [
    { args: ['orgs', 'create', 'acme'], code: 1, msg: /already exists/ },
    { args: ['orgs', 'create', 'Not_A_Label'], code: 2, msg: /not a DNS label/ },
    { args: ['orgs', 'frobnicate'], code: 2, msg: /unknown orgs command/ },
    { args: ['machines', 'create', '--app', 'web'], code: 2, msg: /--region is required/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'syd'], code: 1, msg: /no host in region syd/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'local', '--meta', 'novalue'], code: 2, msg: /KEY=VALUE/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'local', '--bogus'], code: 2, msg: /Unknown option/ },
    { args: ['machines', 'stop', 'xyz'], code: 2, msg: /14 hex/ },
    { args: ['machines', 'run', '--app', 'web', '--region', 'local'], code: 2, msg: /needs a command/ },
    { args: ['wireguard', 'create', 'acme', 'local', 'this-name-is-too-long'], code: 2, msg: /longer than 15/ },
    { args: ['nosuchcommand'], code: 2, msg: /unknown command/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'local', '--check', 'udp:53'], code: 2, msg: /unknown check kind/ },
    { args: ['machines', 'create', '--app', 'web', '--region', 'local', '--port', 'http:70000'], code: 2, msg: /1-65535/ },
    {
      args: ['machines', 'create', '--app', 'web', '--region', 'local', '--check', 'tcp:80', '--check-interval', '0s'],
      code: 2,
      msg: /--check-interval must be a duration/,
    },
  ];
  for (const e of errors) {
    it(`exits ${e.code} with one line for: ${e.args.join(' ')}`, async () => {
      const r = await cli(...e.args);
      assert.equal(r.code, e.code, r.stderr);
      assert.match(r.stderr, e.msg);
      assert.match(r.stderr.split('\n')[0]!, e.msg.source.includes('Unknown') ? /./ : e.msg);
    });
  }

  it('names the API it cannot reach', async () => {
    const r = await runCli(['orgs', 'list', '--api', 'http://127.0.0.1:47', '--token', 'x'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach the API at http:\/\/127\.0\.0\.1:47: ECONNREFUSED/);
  });

  it('answers .internal for the default org on loopback (dig)', async () => {
    // app names are global: `web` belongs to acme here, which loopback (org personal) must not see
    assert.equal((await cli('apps', 'create', 'site', '--org', 'personal')).code, 0);
    await cli('apps', 'create', 'db', '--org', 'personal');
    const m1 = JSON.parse((await cli('machines', 'create', '--app', 'site', '--region', 'local', '--json')).stdout);
    const m2 = JSON.parse((await cli('machines', 'create', '--app', 'site', '--region', 'local', '--json')).stdout);
    await cli('machines', 'create', '--app', 'db', '--region', 'local');
    let aaaa = '';
    for (let i = 0; i < 50 && !aaaa.includes(m2.address); i++) {
      aaaa = dig('+short', 'site.internal', 'AAAA');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(aaaa.trim().split('\n').sort(), [m1.address, m2.address].sort());
    assert.match(dig('+short', 'vms.site.internal', 'TXT'), new RegExp(`${m1.id} local`));
    assert.match(dig('web.internal', 'AAAA'), /status: NXDOMAIN/);
    const nx = dig('nope.internal');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\n\S*internal\.\s+\d+\s+IN\s+SOA/);
    const nodata = dig('site.internal', 'A');
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0,/);
    assert.match(nodata, /IN\s+SOA/);
  });

  it('loses nothing across kill -9 and restart of up', async () => {
    const before = JSON.parse((await cli('machines', 'list', '--app', 'web', '--json')).stdout);
    await up!.kill('SIGKILL');
    await startUp();
    const afterList = JSON.parse((await cli('machines', 'list', '--app', 'web', '--json')).stdout);
    assert.deepEqual(afterList, before);
    assert.equal(JSON.parse((await cli('hosts', 'list', '--json')).stdout).length, 1, 'the local host is enrolled once');
  });
});
