import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addContext, parseConfig, resolveConfig, sudoUser, userConfigPath } from '../../src/cli/config.js';

describe('CLI config: contexts', () => {
  it('reads the flat file of older versions as the context default', () => {
    assert.deepEqual(parseConfig('{"api":"http://a:1","token":"t"}', 'f'), { current: 'default', contexts: { default: { api: 'http://a:1', token: 't' } } });
  });
  it('refuses malformed files with the path and the reason', () => {
    for (const [text, re] of [
      ['nope', /not valid JSON/],
      ['[]', /JSON object/],
      ['{"contexts":{"a":{}}}', /needs a string "api"/],
      ['{"contexts":{"a":{"api":"x","ca":1}}}', /"ca" must be a string/],
    ] as const) {
      assert.throws(
        () => parseConfig(text, '/p/cli.json'),
        (e: Error) => re.test(e.message) && e.message.includes('/p/cli.json'),
      );
    }
  });
  it('flags beat the environment, which beats the current context; a context token goes only to its own API', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sixpn-cfg-'));
    try {
      const path = join(dir, 'cli.json');
      assert.equal(addContext(path, 'local', { api: 'http://127.0.0.1:4280', token: 'loc' }), true);
      assert.equal(addContext(path, 'prod', { api: 'https://p:4280', token: 'prod', ca: '/ca.pem' }), false, 'the first one stays current');
      assert.deepEqual(resolveConfig({}, {}, path), { api: 'http://127.0.0.1:4280', token: 'loc' });
      addContext(path, 'prod', { api: 'https://p:4280', token: 'prod', ca: '/ca.pem' }, { use: true });
      assert.deepEqual(resolveConfig({}, {}, path), { api: 'https://p:4280', token: 'prod', ca: '/ca.pem' });
      assert.deepEqual(resolveConfig({ token: 'f' }, { SIXPN_TOKEN: 'e' }, path), { api: 'https://p:4280', token: 'f', ca: '/ca.pem' });
      assert.equal(resolveConfig({}, { SIXPN_TOKEN: 'e' }, path).token, 'e');
      assert.throws(() => resolveConfig({ api: 'http://elsewhere:1' }, {}, path), /no token/, "prod's token is not sent to another API");
      const tf = join(dir, 'tok');
      writeFileSync(tf, 'fromfile\n');
      assert.equal(resolveConfig({ api: 'http://x:1', tokenFile: tf }, {}, path).token, 'fromfile');
      assert.equal(resolveConfig({ api: 'http://x:1' }, { SIXPN_TOKEN_FILE: tf }, path).token, 'fromfile');
      assert.equal(resolveConfig({}, { SIXPN_CA: '/other.pem' }, path).ca, '/other.pem');
      const file = JSON.parse(readFileSync(path, 'utf8'));
      assert.deepEqual(Object.keys(file.contexts), ['local', 'prod']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('finds the config by SIXPN_CONFIG, XDG_CONFIG_HOME or HOME, never the current directory', () => {
    assert.equal(userConfigPath('/home/a', { SIXPN_CONFIG: '/x.json' }), '/x.json');
    assert.equal(userConfigPath('/home/a', { XDG_CONFIG_HOME: '/xdg' }), '/xdg/sixpn/cli.json');
    assert.equal(userConfigPath('/home/a', {}), '/home/a/.config/sixpn/cli.json');
  });
  it("finds sudo's invoking user in a passwd file", () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001:Alice:/home/alice:/bin/bash\n';
    assert.deepEqual(sudoUser({ SUDO_USER: 'alice' }, passwd), { name: 'alice', home: '/home/alice', uid: 1000, gid: 1001 });
    assert.equal(sudoUser({ SUDO_USER: 'root' }, passwd), null);
    assert.equal(sudoUser({}, passwd), null);
    assert.equal(sudoUser({ SUDO_USER: 'bob' }, passwd), null);
  });
});
