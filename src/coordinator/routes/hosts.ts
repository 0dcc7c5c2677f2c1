import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { RULES } from '../../validate.js';
import { caller, requireScope } from '../auth.js';
import { body, endpoint, label, params, region, versionString, wgKey } from '../schemas.js';
import { answer, answerList, NO_CONTENT, op, responses } from '../responses.js';
import type { HostReport } from '../../model/host-report.js';
import { checkHostReport, HOST_REPORT_BODY } from './host-report.js';

const enrolled = (description: string): Record<string, unknown> =>
  answer({ host: 'Host', credential: { type: 'string', description: 'the host-scoped token' } }, description);

interface PeerStatusBody {
  peers: { org: string; name: string; latest_handshake: number; rx_bytes: number; tx_bytes: number; endpoint: string | null }[];
}

export function hostRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Body: { region: string; endpoint: string; public_key: string; gateway?: boolean; version?: string } }>(
    '/v1/hosts',
    {
      schema: {
        ...op(
          'hosts',
          'Enroll a host (201), or the same public key again (200: same host id, a fresh credential, the old one revoked; ' +
            'a retry after a lost reply); answers its host credential (shown once)',
          'admin, host-enroll',
        ),
        body: body({ region, endpoint, public_key: wgKey, gateway: { type: 'boolean' }, version: versionString }, ['region', 'endpoint', 'public_key']),
        response: { ...responses(enrolled('Enrolled'), 201), 200: enrolled('Enrolled again: the same host, a fresh credential') },
      },
    },
    async (req, reply) => {
      requireScope(req, 'admin', 'host-enroll');
      if (!RULES.endpoint.test(req.body.endpoint)) throw new AppError('invalid', RULES.endpoint.explain(req.body.endpoint));
      const r = await store.enrollHost({ ...req.body, gateway: req.body.gateway ?? false });
      return reply.code(r.created ? 201 : 200).send({ host: r.host, credential: r.credential });
    },
  );

  app.get(
    '/v1/hosts',
    {
      schema: {
        ...op('hosts', 'List hosts, with their credential id, last heartbeat and status (unreachable: silent past the host timeout)', 'admin'),
        response: responses(answerList('hosts', 'HostListed')),
      },
    },
    async (req) => {
      requireScope(req, 'admin');
      return { hosts: await store.listHostsWithStatus() };
    },
  );

  app.delete<{ Params: { id: number }; Querystring: { force?: boolean } }>(
    '/v1/hosts/:id',
    {
      schema: {
        ...op(
          'hosts',
          'Remove a host: every other host drops it as a peer, its credential is revoked, its machines become lost. ' +
            'A gateway still carrying developer peers is refused (409, naming them) unless force=true, which removes them too',
          'admin',
        ),
        params: params({ id: { type: 'integer', minimum: 1 } }),
        querystring: { type: 'object', properties: { force: { type: 'boolean' } }, additionalProperties: false },
        response: responses(
          answer(
            {
              host: 'Host',
              removed_peers: { type: 'array', items: { $ref: 'Peer#' }, description: 'developer peers removed with it (force)' },
              lost_machines: { type: 'array', items: { type: 'string' }, description: 'ids of its machines, now in state lost' },
            },
            'Removed',
          ),
        ),
      },
    },
    async (req) => {
      requireScope(req, 'admin');
      return store.removeHost(req.params.id, req.query.force ?? false);
    },
  );

  // Cheap on purpose: one row write (two with a report), no revision, no feed traffic.
  app.put<{ Params: { id: number }; Body: HostReport | null }>(
    '/v1/hosts/:id/heartbeat',
    {
      schema: {
        ...op(
          'hosts',
          'A host says it is alive (its agent, every few seconds), optionally with its report: its WireGuard handshakes with the other hosts ' +
            "and its replicas' revisions (shown by hosts list|show and sixpn status); no revision",
          'host (own)',
        ),
        params: params({ id: { type: 'integer', minimum: 1 } }),
        body: HOST_REPORT_BODY,
        response: NO_CONTENT,
      },
      bodyLimit: 2 * 1024 * 1024,
    },
    async (req, reply) => {
      const t = caller(req);
      if (t.scope !== 'host' || t.host_id !== req.params.id) throw new AppError('forbidden', 'only the host itself sends its heartbeat');
      const report = req.body ?? undefined;
      if (report) checkHostReport(report);
      await store.heartbeat(req.params.id, report);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: number } }>(
    '/v1/hosts/:id',
    {
      schema: {
        ...op('hosts', 'Show a host, with its credential id, last heartbeat and status (as in the list)', 'admin, host (own)'),
        params: params({ id: { type: 'integer', minimum: 1 } }),
        response: responses(answer({ host: 'HostListed' })),
      },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'host');
      if (t.scope === 'host' && t.host_id !== req.params.id) throw new AppError('forbidden', 'a host credential reads only its own host');
      return { host: await store.getHostWithStatus(req.params.id) };
    },
  );

  // An agent restarted with another --endpoint (or an operator) moves the host.
  app.patch<{ Params: { id: number }; Body: { endpoint?: string; gateway?: boolean; version?: string } }>(
    '/v1/hosts/:id',
    {
      schema: {
        ...op('hosts', 'Move a host (endpoint), change its gateway role, or report the version it runs', 'admin, host (own; endpoint and version only)'),
        params: params({ id: { type: 'integer', minimum: 1 } }),
        body: body({ endpoint, gateway: { type: 'boolean' }, version: versionString }, []),
        response: responses(answer({ host: 'Host' })),
      },
    },
    async (req) => {
      const t = requireScope(req, 'admin', 'host');
      if (t.scope === 'host' && t.host_id !== req.params.id) throw new AppError('forbidden', 'a host credential updates only its own host');
      if (t.scope === 'host' && req.body.gateway !== undefined) throw new AppError('forbidden', 'only an operator changes the gateway role');
      if (req.body.endpoint !== undefined && !RULES.endpoint.test(req.body.endpoint)) throw new AppError('invalid', RULES.endpoint.explain(req.body.endpoint));
      return { host: await store.updateHost(req.params.id, req.body) };
    },
  );

  app.put<{ Params: { id: number }; Body: PeerStatusBody }>(
    '/v1/hosts/:id/peer-status',
    {
      schema: {
        ...op('hosts', 'A gateway reports the WireGuard status of the peers it carries', 'host (own)'),
        params: params({ id: { type: 'integer', minimum: 1 } }),
        response: NO_CONTENT,
        body: body(
          {
            peers: {
              type: 'array',
              maxItems: 2000,
              items: body(
                {
                  org: label,
                  name: label,
                  latest_handshake: { type: 'integer', minimum: 0 },
                  rx_bytes: { type: 'integer', minimum: 0 },
                  tx_bytes: { type: 'integer', minimum: 0 },
                  endpoint: { type: ['string', 'null'], maxLength: 100 },
                },
                ['org', 'name', 'latest_handshake', 'rx_bytes', 'tx_bytes', 'endpoint'],
              ),
            },
          },
          ['peers'],
        ),
      },
      bodyLimit: 1024 * 1024,
    },
    async (req, reply) => {
      const t = caller(req);
      if (t.scope !== 'host' || t.host_id !== req.params.id) throw new AppError('forbidden', 'only the host itself reports its peers');
      await store.setPeerStatus(req.params.id, req.body.peers);
      return reply.code(204).send();
    },
  );
}
