import type { FastifyInstance } from 'fastify';
import { networkDnsAddress, networkPrefix } from '../../addr/plan.js';
import { AppError } from '../../errors.js';
import type { TokenInfo } from '../../model/auth.js';
import type { Store } from '../../store/store.js';
import { requireOrg } from '../auth.js';
import { body, label, params, peerName, region, ttlSeconds, wgKey } from '../schemas.js';
import { answer, op, responses } from '../responses.js';

const SCOPES_TEXT = 'admin, org (own), wireguard (own org)';
const WRITE_SCOPES_TEXT = 'admin, org (own), wireguard (own org; plain peers, and peers of its app when made for one)';

/**
 * A wireguard (CI) token writes plain peers only, and peers of the one app it
 * was made for: a peer with an app answers as that app in DNS, so a token
 * that could name any app could take over its traffic.
 */
function checkPeerApp(t: TokenInfo, app: string | null | undefined): void {
  if (t.scope !== 'wireguard' || !app || app === t.app) return;
  throw new AppError(
    'forbidden',
    t.app
      ? `this wireguard token is made for app ${t.app}, not ${app}`
      : `a wireguard token creates plain peers only (a peer of app ${app} needs an org token, or a wireguard token made for ${app})`,
  );
}
const onePeer = responses(answer({ peer: 'Peer' }));
const listedPeer = {
  allOf: [
    { $ref: 'Peer#' },
    { type: 'object', properties: { gateway: { type: ['string', 'null'], description: 'endpoint of the gateway host' } }, required: ['gateway'] },
  ],
};

const PEER_SCOPES = ['org', 'wireguard'] as const;

export function peerRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Params: { org: string }; Body: { name: string; region: string; public_key: string; network?: string; app?: string; ttl_seconds?: number } }>(
    '/v1/orgs/:org/peers',
    {
      schema: {
        ...op(
          'peers',
          'Register a developer peer on a gateway of the region (or the nearest); with ttl_seconds it is removed when it expires',
          WRITE_SCOPES_TEXT,
        ),
        response: responses(
          answer(
            {
              peer: 'Peer',
              gateway: answer(
                { host_id: { type: 'integer' }, public_key: { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' } },
                'the gateway carrying the peer',
              ),
              dns: { type: 'string', description: "the network's DNS address (::3)" },
              allowed_ips: { type: 'string', description: "the network's /48" },
            },
            'Created',
          ),
          201,
        ),
        params: params({ org: label }),
        body: body({ name: peerName, region, public_key: wgKey, network: label, app: label, ttl_seconds: ttlSeconds }, ['name', 'region', 'public_key']),
      },
    },
    async (req, reply) => {
      const t = requireOrg(req, req.params.org, [...PEER_SCOPES]);
      checkPeerApp(t, req.body.app);
      const { ttl_seconds: ttl, ...input } = req.body;
      const expires_at = ttl === undefined ? null : new Date(Date.now() + ttl * 1000).toISOString();
      const { peer, gateway } = await store.createPeer({ org: req.params.org, ...input, expires_at });
      return reply.code(201).send({
        peer,
        gateway: { host_id: gateway.id, public_key: gateway.public_key, endpoint: gateway.endpoint, region: gateway.region },
        dns: networkDnsAddress(peer.network_id),
        allowed_ips: networkPrefix(peer.network_id),
      });
    },
  );

  app.get<{ Params: { org: string } }>(
    '/v1/orgs/:org/peers',
    {
      schema: {
        ...op('peers', "List an org's peers with their gateway endpoints", SCOPES_TEXT),
        params: params({ org: label }),
        response: responses(answer({ peers: { type: 'array', items: listedPeer } })),
      },
    },
    async (req) => {
      requireOrg(req, req.params.org, [...PEER_SCOPES]);
      await store.getOrg(req.params.org);
      const [peers, hosts] = await Promise.all([store.listPeers(req.params.org), store.listHosts()]);
      const byId = new Map(hosts.map((h) => [h.id, h]));
      return { peers: peers.map((p) => ({ ...p, gateway: byId.get(p.host_id)?.endpoint ?? null })) };
    },
  );

  app.get<{ Params: { org: string; name: string } }>(
    '/v1/orgs/:org/peers/:name',
    {
      schema: {
        ...op('peers', 'Show a peer and its last reported WireGuard status', SCOPES_TEXT),
        params: params({ org: label, name: peerName }),
        response: responses(answer({ peer: 'Peer', status: { oneOf: [{ $ref: 'PeerStatus#' }, { type: 'null' }] } })),
      },
    },
    async (req) => {
      requireOrg(req, req.params.org, [...PEER_SCOPES]);
      const peer = await store.getPeer(req.params.org, req.params.name);
      return { peer, status: await store.getPeerStatus(peer.org, peer.name) };
    },
  );

  app.delete<{ Params: { org: string; name: string } }>(
    '/v1/orgs/:org/peers/:name',
    {
      schema: { ...op('peers', 'Remove a peer', WRITE_SCOPES_TEXT), params: params({ org: label, name: peerName }), response: onePeer },
    },
    async (req) => {
      const t = requireOrg(req, req.params.org, [...PEER_SCOPES]);
      if (t.scope === 'wireguard') checkPeerApp(t, (await store.getPeer(req.params.org, req.params.name)).app);
      return { peer: await store.removePeer(req.params.org, req.params.name) };
    },
  );
}
