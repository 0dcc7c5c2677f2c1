import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { isDnsLabel, isMachineId, isMetadataKey, isMetadataValue, isWgKey, RULES } from '../../src/validate.js';

const KEY = 'mBd1hq9NyY0Ktg5LPRvjF2RL5b1ZXHMCD91o3WTBk1M=';

// One row per value: what the rule's test says, and (when it differs, as for
// HOST:PORT whose shape the route checks) what the JSON schema alone says.
const CASES: { rule: keyof typeof RULES; value: string; ok: boolean; schema?: boolean }[] = [
  { rule: 'label', value: 'acme', ok: true },
  { rule: 'label', value: 'a', ok: true },
  { rule: 'label', value: 'a-1', ok: true },
  { rule: 'label', value: 'a'.repeat(63), ok: true },
  { rule: 'label', value: 'a'.repeat(64), ok: false },
  { rule: 'label', value: '', ok: false },
  { rule: 'label', value: '-a', ok: false },
  { rule: 'label', value: 'a-', ok: false },
  { rule: 'label', value: 'Acme', ok: false },
  { rule: 'label', value: 'a_b', ok: false },
  { rule: 'region', value: 'ams', ok: true },
  { rule: 'region', value: 'AMS', ok: false },
  { rule: 'peerName', value: 'laptop', ok: true },
  { rule: 'peerName', value: 'a'.repeat(15), ok: true },
  { rule: 'peerName', value: 'a'.repeat(16), ok: false },
  { rule: 'peerName', value: 'Not_A_Label', ok: false },
  { rule: 'wgKey', value: KEY, ok: true },
  { rule: 'wgKey', value: KEY.slice(0, -2) + 'N=', ok: false },
  { rule: 'wgKey', value: KEY.slice(1), ok: false },
  { rule: 'wgKey', value: '', ok: false },
  { rule: 'machineId', value: '0bd878713d78e4', ok: true },
  { rule: 'machineId', value: '0bd878713d78e', ok: false },
  { rule: 'machineId', value: '0bd878713d78e45', ok: false },
  { rule: 'machineId', value: '0BD878713D78E4', ok: false },
  { rule: 'machineId', value: 'xyz', ok: false },
  { rule: 'metadataKey', value: 'role', ok: true },
  { rule: 'metadataKey', value: 'a_b-c', ok: true },
  { rule: 'metadataKey', value: 'a'.repeat(64), ok: false },
  { rule: 'metadataKey', value: 'Bad Key', ok: false },
  { rule: 'metadataKey', value: '_a', ok: false },
  { rule: 'metadataKey', value: '', ok: false },
  { rule: 'metadataValue', value: 'primary', ok: true },
  { rule: 'metadataValue', value: '~!{}', ok: true },
  { rule: 'metadataValue', value: 'x'.repeat(255), ok: true },
  { rule: 'metadataValue', value: 'x'.repeat(256), ok: false },
  { rule: 'metadataValue', value: 'has space', ok: false },
  { rule: 'metadataValue', value: '', ok: false },
  { rule: 'metadataValue', value: 'é', ok: false },
  { rule: 'endpoint', value: '192.0.2.1:51820', ok: true },
  { rule: 'endpoint', value: '[2001:db8::1]:51820', ok: true },
  { rule: 'endpoint', value: 'vpn.example.com:1', ok: true },
  { rule: 'endpoint', value: '192.0.2.1', ok: false, schema: true },
  { rule: 'endpoint', value: 'host:70000', ok: false, schema: true },
  { rule: 'endpoint', value: '.host:1', ok: false, schema: true },
  { rule: 'endpoint', value: 'a:', ok: false },
];

describe('input rules (validate.ts)', () => {
  for (const c of CASES) {
    it(`${c.rule} ${JSON.stringify(c.value.length > 20 ? c.value.slice(0, 20) + '…' : c.value)} is ${c.ok ? 'accepted' : 'refused'}`, () => {
      assert.equal(RULES[c.rule].test(c.value), c.ok);
    });
  }

  it('the JSON schemas fastify checks give the same verdicts as the tests the machine API and CLI call', async () => {
    const app = Fastify();
    for (const name of Object.keys(RULES) as (keyof typeof RULES)[]) {
      app.post(`/${name}`, { schema: { body: { type: 'object', properties: { v: RULES[name].schema }, required: ['v'] } } }, async () => ({}));
    }
    try {
      for (const c of CASES) {
        const r = await app.inject({ method: 'POST', url: `/${c.rule}`, payload: { v: c.value } });
        assert.equal(r.statusCode === 200, c.schema ?? c.ok, `${c.rule} ${JSON.stringify(c.value)}: ${r.body}`);
      }
    } finally {
      await app.close();
    }
  });

  it('the named tests are the table rules', () => {
    assert.equal(isDnsLabel('acme'), true);
    assert.equal(isDnsLabel('-acme'), false);
    assert.equal(isWgKey(KEY), true);
    assert.equal(isMachineId('0bd878713d78e4'), true);
    assert.equal(isMetadataKey('Role'), false);
    assert.equal(isMetadataValue('has space'), false);
  });

  it('explains a refusal with the rule and the value', () => {
    assert.equal(RULES.metadataValue.explain('a b'), 'metadata value "a b" must be 1-255 printable characters without spaces');
    assert.equal(RULES.endpoint.explain('nowhere'), 'endpoint "nowhere" must be HOST:PORT');
  });
});
