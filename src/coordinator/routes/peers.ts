import type { FastifyInstance } from 'fastify';
import { networkDnsAddress, networkPrefix } from '../../addr/plan.js';
import type { Store } from '../../store/store.js';
import { requireOrg } from '../auth.js';
import { body, label, params, peerName, region, wgKey } from '../schemas.js';

const PEER_SCOPES = ['org', 'wireguard'] as const;

export function peerRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Params: { org: string }; Body: { name: string; region: string; public_key: string; network?: string; app?: string } }>('/v1/orgs/:org/peers', {
    schema: {
      params: params({ org: label }),
      body: body({ name: peerName, region, public_key: wgKey, network: label, app: label }, ['name', 'region', 'public_key']),
    },
  }, async (req, reply) => {
    requireOrg(req, req.params.org, [...PEER_SCOPES]);
    const { peer, gateway } = await store.createPeer({ org: req.params.org, ...req.body });
    return reply.code(201).send({
      peer,
      gateway: { host_id: gateway.id, public_key: gateway.public_key, endpoint: gateway.endpoint, region: gateway.region },
      dns: networkDnsAddress(peer.network_id),
      allowed_ips: networkPrefix(peer.network_id),
    });
  });

  app.get<{ Params: { org: string } }>('/v1/orgs/:org/peers', { schema: { params: params({ org: label }) } }, async (req) => {
    requireOrg(req, req.params.org, [...PEER_SCOPES]);
    await store.getOrg(req.params.org);
    const [peers, hosts] = await Promise.all([store.listPeers(req.params.org), store.listHosts()]);
    const byId = new Map(hosts.map((h) => [h.id, h]));
    return { peers: peers.map((p) => ({ ...p, gateway: byId.get(p.host_id)?.endpoint ?? null })) };
  });

  app.get<{ Params: { org: string; name: string } }>('/v1/orgs/:org/peers/:name', {
    schema: { params: params({ org: label, name: peerName }) },
  }, async (req) => {
    requireOrg(req, req.params.org, [...PEER_SCOPES]);
    const peer = await store.getPeer(req.params.org, req.params.name);
    return { peer, status: await store.getPeerStatus(peer.org, peer.name) };
  });

  app.delete<{ Params: { org: string; name: string } }>('/v1/orgs/:org/peers/:name', {
    schema: { params: params({ org: label, name: peerName }) },
  }, async (req) => {
    requireOrg(req, req.params.org, [...PEER_SCOPES]);
    return { peer: await store.removePeer(req.params.org, req.params.name) };
  });
}
