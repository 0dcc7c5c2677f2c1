import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { AppError, ERROR_STATUS, httpErrorAnswer } from '../../src/errors.js';

describe('the one HTTP error mapper', () => {
  it('answers every declared error with its one status and code', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const a = httpErrorAnswer(new AppError(code as keyof typeof ERROR_STATUS, 'why'), 100);
      assert.deepEqual(a, { status, code, message: 'why', internal: code === 'internal' });
    }
    assert.equal(ERROR_STATUS.unavailable, 503);
  });

  it('maps unique-constraint violations to 409 and anything unknown to 500 without its message', () => {
    assert.deepEqual(httpErrorAnswer(Object.assign(new Error('UNIQUE failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), 100), {
      status: 409,
      code: 'conflict',
      message: 'already exists',
      internal: false,
    });
    assert.deepEqual(httpErrorAnswer(Object.assign(new Error('dup'), { code: '23505' }), 100), {
      status: 409,
      code: 'conflict',
      message: 'already exists',
      internal: false,
    });
    assert.deepEqual(httpErrorAnswer(new Error('secret detail'), 100), { status: 500, code: 'internal', message: 'internal error', internal: true });
    assert.deepEqual(httpErrorAnswer('not even an error', 100), { status: 500, code: 'internal', message: 'internal error', internal: true });
  });

  it("maps fastify's own errors (schema, body size, content type, bad JSON) by status", async () => {
    const app = Fastify({ bodyLimit: 64 });
    app.setErrorHandler((err, _req, reply) => {
      const a = httpErrorAnswer(err, 64);
      return reply.code(a.status).send(a);
    });
    app.post('/x', { schema: { body: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false } } }, async () => ({}));
    try {
      const answer = async (payload: string, type = 'application/json') => {
        const r = await app.inject({ method: 'POST', url: '/x', headers: { 'content-type': type }, payload });
        const body = JSON.parse(r.body);
        assert.equal(r.statusCode, body.status);
        return { status: body.status, code: body.code };
      };
      assert.deepEqual(await answer('{"n":"x"}'), { status: 400, code: 'invalid' });
      assert.deepEqual(await answer(JSON.stringify({ n: 1, pad: 'x'.repeat(100) })), { status: 413, code: 'too_large' });
      assert.deepEqual(await answer('{', 'application/json'), { status: 400, code: 'invalid' });
      assert.deepEqual(await answer('n=1', 'application/x-www-form-urlencoded'), { status: 415, code: 'invalid' });
    } finally {
      await app.close();
    }
  });
});
