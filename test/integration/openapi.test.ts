import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { renderApiDocs } from '../../src/coordinator/api-docs.js';
import { VERSION } from '../../src/version.js';
import { testCoordinator, type TestCoordinator } from '../../testkit/coordinator.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every METHOD path fastify serves, from printRoutes' tree (HEAD is implied by GET). */
function servedRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out.sort();
}

describe('OpenAPI document (GET /openapi.json)', () => {
  let tc: TestCoordinator;
  let spec: any;
  before(async () => {
    tc = await testCoordinator();
    const res = await tc.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    spec = JSON.parse(res.body);
  });
  after(() => tc.close());

  it('is a valid OpenAPI 3 document, versioned like the package', async () => {
    const v = new Validator();
    const res = await v.validate(structuredClone(spec));
    assert.ok(res.valid, `invalid OpenAPI: ${JSON.stringify(res.errors, null, 1)?.slice(0, 2000)}`);
    assert.match(spec.openapi, /^3\./);
    assert.equal(spec.info.version, VERSION);
  });

  it('documents every route fastify serves, and nothing else', async () => {
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    const served = servedRoutes(tc.app.printRoutes({ commonPrefix: false }));
    assert.ok(served.length > 30, `parsed ${served.length} routes from printRoutes`);
    assert.deepEqual(documented, served);
    for (const p of ['/healthz', '/metrics', '/v1/watch', '/openapi.json', '/v1/hosts/{id}', '/v1/orgs/{org}/networks', '/v1/tokens/{id}'])
      assert.ok(spec.paths[p], p);
  });

  it('gives every operation a summary and a response schema for its success and its errors', async () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        const name = `${m.toUpperCase()} ${path}`;
        if (!op.summary) missing.push(`${name}: no summary`);
        const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2/.test(code));
        const redirect = Object.keys(op.responses ?? {}).some((code) => /^3/.test(code));
        if (ok.length === 0 && !redirect) missing.push(`${name}: no 2xx (or redirect) response`);
        for (const [code, r] of ok as [string, any][]) {
          if (code === '204') continue; // no body by definition
          const media = Object.values(r.content ?? {}) as any[];
          if (media.length === 0 || !media.every((x) => x.schema && Object.keys(x.schema).length > 0)) missing.push(`${name}: ${code} has no schema`);
        }
        const errors = ['4XX', '5XX'].filter((c) => op.responses[c]?.content?.['application/json']?.schema);
        if (!['/metrics', '/openapi.json', '/ui/'].includes(path) && errors.length === 0) missing.push(`${name}: no error schema`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('documents the watch stream as NDJSON and /metrics as text', () => {
    assert.ok(spec.paths['/v1/watch'].get.responses['200'].content['application/x-ndjson'].schema);
    assert.ok(spec.paths['/metrics'].get.responses['200'].content['text/plain'].schema);
    assert.ok(spec.components.schemas.FeedMessage.oneOf.length >= 5);
  });

  it('serializes answers through the schemas: no field beyond the documented ones leaves the API', async () => {
    // A store record grown a private field must not leak; the documented ones all stay.
    const orig = tc.store.listRegions.bind(tc.store);
    tc.store.listRegions = async () => (await orig()).map((r) => ({ ...r, secret: 'x' }));
    try {
      const res = await tc.call('GET', '/v1/regions');
      assert.equal(res.status, 200);
      const r = res.json.regions[0];
      assert.deepEqual(Object.keys(r).sort(), ['code', 'latitude', 'longitude', 'name']);
    } finally {
      tc.store.listRegions = orig;
    }
    const err = await tc.call('GET', '/v1/orgs/nope');
    assert.equal(err.status, 404);
    assert.deepEqual(Object.keys(err.json), ['error']);
    assert.equal(err.json.error.code, 'not_found');
  });

  it('docs/api.md is generated from this document (run `npm run docs:api` when this fails)', () => {
    const file = new URL('../../../docs/api.md', import.meta.url);
    const want = renderApiDocs(spec);
    assert.ok(readFileSync(file, 'utf8') === want, 'docs/api.md is stale: run `npm run docs:api` and commit it');
    for (const p of ['GET | /v1/hosts/{id}', 'GET | /v1/orgs/{org}/networks', 'DELETE | /v1/tokens/{id}', 'GET | /metrics', 'GET | /v1/watch'])
      assert.ok(want.includes(`| ${p} |`), p);
    for (const code of ['no_host', 'no_gateway', 'host_full', 'exhausted', 'unavailable', 'too_large']) assert.ok(want.includes(code), code);
  });
});
