// OpenAPI 3 from the route schemas: @fastify/swagger collects every route
// declared after it is registered; GET /openapi.json serves the result.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version.js';
import { addResponseSchemas } from './responses.js';

export const OPENAPI_PATH = '/openapi.json';

/** Register before any route: routes declared earlier are missing from the spec. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  addResponseSchemas(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sixpn coordinator API',
        version: VERSION,
        description: 'Private WireGuard mesh and .internal DNS. Bodies are JSON, at most 64 KiB; ' + 'every error is {"error":{"code","message"}}.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              "scopes are admin, org (one org), wireguard (one org's peers only), " +
              'host-enroll (enrolls hosts), reader (the watch feed only), host (the credential a host gets at enrollment).',
          },
        },
      },
    },
    // Shared schemas keep their own names (Machine, Host…) under components.schemas.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.addHook('onReady', async () => {
    app.swagger();
  }); // build (and check) the spec once, at start
}

/** Declare GET /openapi.json (after registerOpenApi). */
export function openApiRoute(app: FastifyInstance): void {
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        tags: ['meta'],
        summary: 'This API as an OpenAPI 3 document',
        description: 'No token needed.',
        response: { 200: { description: 'The OpenAPI document', type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );
}
