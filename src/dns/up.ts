// The DNS part of `sixpn up`: a replica fed by the local coordinator's watch
// stream, served on `listen` (default 127.0.0.1:5353), loopback queries
// answered as the default org's network.
import { FeedClient } from '../feed/client.js';
import { Replica } from '../feed/replica.js';
import { silentLogger, type Logger } from '../log.js';
import { startDnsServer, type DnsServer } from './server.js';
import type { Upstream } from './forward.js';
import { userAgent } from '../version.js';

export interface UpDnsOptions {
  coordinatorUrl: string;
  token: string;
  listen: { host: string; port: number };
  /** the default org's network id (loopback queriers are answered as this network) */
  loopbackNetworkId: number;
  /** region of the `up` host (nearest); default: the only host's region */
  region?: string;
  upstreams?: Upstream[];
  logger?: Logger;
}

export interface UpDns {
  server: DnsServer;
  replica: Replica;
  close(): Promise<void>;
}

export async function startUpDns(o: UpDnsOptions): Promise<UpDns> {
  const logger = o.logger ?? silentLogger;
  const replica = new Replica();
  const server = await startDnsServer({
    replica,
    listen: [o.listen],
    upstreams: o.upstreams,
    loopbackNetworkId: o.loopbackNetworkId,
    loopbackRegion: o.region,
    logger,
  });
  const feed = new FeedClient({ url: o.coordinatorUrl, token: o.token, replica, logger, userAgent: userAgent('dns') });
  feed.start();
  return {
    server,
    replica,
    async close() {
      await feed.stop();
      await server.close();
    },
  };
}
