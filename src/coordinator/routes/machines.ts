import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { Machine, MachineCheck, MachineCreate, MachinePort } from '../../model/types.js';
import { CHECK_INTERVAL_MAX, CHECK_INTERVAL_MIN, CHECKS_MAX, parseAll, parseCheck, parsePort, PORTS_MAX } from '../../validate.js';
import type { Store } from '../../store/store.js';
import { caller, requireOrg } from '../auth.js';
import { body, label, machineId, metadataObject, metaKey, metaValue, params, region } from '../schemas.js';
import { answer, answerList, op, responses } from '../responses.js';

/** Check and port specs parsed by the one rule in validate.ts (400 with its message). */
function parseSpecs(b: MachineCreate): { checks: MachineCheck[]; ports: MachinePort[] } {
  const checks = parseAll(b.checks ?? [], parseCheck, 'check', CHECKS_MAX);
  if (typeof checks === 'string') throw new AppError('invalid', checks);
  const ports = parseAll(b.ports ?? [], parsePort, 'port', PORTS_MAX);
  if (typeof ports === 'string') throw new AppError('invalid', ports);
  return { checks, ports };
}

const idParams = params({ id: machineId });
const keyParams = params({ id: machineId, key: metaKey });
const oneMachine = responses(answer({ machine: 'Machine' }));

/** The machine, if the caller may see it: its org's token, admin, or the host carrying it. */
async function visibleMachine(req: FastifyRequest, store: Store, id: string, hostMay: boolean): Promise<Machine> {
  const t = caller(req);
  const m = await store.getMachine(id);
  if (t.scope === 'host') {
    if (!hostMay || t.host_id !== m.host_id) throw new AppError('forbidden', `machine ${id} is not on this host`);
    return m;
  }
  requireOrg(req, m.org);
  return m;
}

/** The If-Match header as a metadata revision (`3`, `"3"`), undefined when absent. */
export function ifMatch(req: FastifyRequest): number | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(String(h));
  if (!m) throw new AppError('invalid', `If-Match must be a metadata revision (a number such as "3"), got ${JSON.stringify(h)}`);
  return Number(m[1]);
}

export function machineRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Body: MachineCreate }>(
    '/v1/machines',
    {
      schema: {
        ...op('machines', 'Create a machine on the least-loaded host of the region', 'admin, org (own org)'),
        response: responses(answer({ machine: 'Machine' }, 'Created'), 201),
        body: body(
          {
            app: label,
            region,
            group: label,
            metadata: metadataObject,
            stopped: { type: 'boolean' },
            command: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 4096 } },
            checks: { type: 'array', maxItems: CHECKS_MAX, items: { type: 'string', maxLength: 1100 }, description: 'tcp:PORT or http:PORT/PATH' },
            check_interval: { type: 'integer', minimum: CHECK_INTERVAL_MIN, maximum: CHECK_INTERVAL_MAX, description: 'seconds (default 5)' },
            ports: { type: 'array', maxItems: PORTS_MAX, items: { type: 'string', maxLength: 40 }, description: 'NAME:PORT[/tcp|/udp]' },
          },
          ['app', 'region'],
        ),
      },
    },
    async (req, reply) => {
      caller(req);
      const a = await store.getApp(req.body.app);
      requireOrg(req, a.org);
      const specs = parseSpecs(req.body);
      return reply.code(201).send({ machine: await store.createMachine({ ...req.body, ...specs }) });
    },
  );

  app.get<{ Querystring: { app?: string; all?: boolean } }>(
    '/v1/machines',
    {
      schema: {
        ...op('machines', "List an app's machines (a host token: the machines it carries); destroyed ones only with all", 'admin, org (own org), host'),
        querystring: { type: 'object', properties: { app: label, all: { type: 'boolean' } }, additionalProperties: false },
        response: responses(answerList('machines', 'Machine')),
      },
    },
    async (req) => {
      const t = caller(req);
      if (t.scope === 'host') return { machines: await store.listMachines({ host_id: t.host_id!, all: req.query.all }) };
      if (!req.query.app) throw new AppError('invalid', 'querystring must have property app');
      const a = await store.getApp(req.query.app);
      requireOrg(req, a.org);
      return { machines: await store.listMachines({ app: a.name, all: req.query.all }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/machines/:id',
    {
      schema: { ...op('machines', 'Show a machine', 'admin, org (own org), host (own machines)'), params: idParams, response: oneMachine },
    },
    async (req) => {
      return { machine: await visibleMachine(req, store, req.params.id, true) };
    },
  );

  for (const [verb, state] of [
    ['start', 'started'],
    ['stop', 'stopped'],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/machines/:id/${verb}`,
      {
        schema: { ...op('machines', `${verb[0]!.toUpperCase()}${verb.slice(1)} a machine`, 'admin, org (own org)'), params: idParams, response: oneMachine },
      },
      async (req) => {
        await visibleMachine(req, store, req.params.id, false);
        return { machine: await store.setMachineState(req.params.id, state) };
      },
    );
  }

  app.delete<{ Params: { id: string } }>(
    '/v1/machines/:id',
    {
      schema: { ...op('machines', 'Destroy a machine (answers it in state destroyed)', 'admin, org (own org)'), params: idParams, response: oneMachine },
    },
    async (req) => {
      await visibleMachine(req, store, req.params.id, false);
      return { machine: await store.setMachineState(req.params.id, 'destroyed') };
    },
  );

  app.put<{ Params: { id: string }; Body: { state: 'started' | 'stopped' | 'failed'; reason?: string } }>(
    '/v1/machines/:id/status',
    {
      schema: {
        ...op('machines', 'The carrying host reports what became of a machine', 'host (own machines), admin'),
        params: idParams,
        response: oneMachine,
        body: body({ state: { type: 'string', enum: ['started', 'stopped', 'failed'] }, reason: { type: 'string', maxLength: 1000 } }, ['state']),
      },
    },
    async (req) => {
      const t = caller(req);
      const m = await store.getMachine(req.params.id);
      if (t.scope !== 'admin' && !(t.scope === 'host' && t.host_id === m.host_id)) {
        throw new AppError('forbidden', 'only the host carrying the machine reports its status');
      }
      return { machine: await store.reportMachineState(m.host_id, m.id, req.body.state, req.body.reason ?? null) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/machines/:id/metadata',
    {
      schema: {
        ...op('metadata', "A machine's metadata", 'admin, org (own org), host (own machines)'),
        params: idParams,
        response: responses(answer({ metadata: { type: 'object', additionalProperties: { type: 'string' } } })),
      },
    },
    async (req) => {
      return { metadata: (await visibleMachine(req, store, req.params.id, true)).metadata };
    },
  );

  app.put<{ Params: { id: string; key: string }; Body: { value: string } }>(
    '/v1/machines/:id/metadata/:key',
    {
      schema: {
        ...op(
          'metadata',
          'Set one metadata key (with If-Match: only while the metadata is at that metadata_rev, else 412)',
          'admin, org (own org), host (own machines)',
        ),
        params: keyParams,
        body: body({ value: metaValue }, ['value']),
        response: oneMachine,
      },
    },
    async (req) => {
      await visibleMachine(req, store, req.params.id, true);
      return { machine: await store.setMachineMetadata(req.params.id, req.params.key, req.body.value, ifMatch(req)) };
    },
  );

  app.delete<{ Params: { id: string; key: string } }>(
    '/v1/machines/:id/metadata/:key',
    {
      schema: { ...op('metadata', 'Remove one metadata key', 'admin, org (own org), host (own machines)'), params: keyParams, response: oneMachine },
    },
    async (req) => {
      await visibleMachine(req, store, req.params.id, true);
      return { machine: await store.setMachineMetadata(req.params.id, req.params.key, null, ifMatch(req)) };
    },
  );
}
