// The wg-quick file of a developer peer (DESIGN.md "peer config shape"):
// what `wg-quick up` takes, with the private key made on the peer's machine.

/** The parts of the coordinator's answer to "create a peer" that go in the file. */
export interface WgQuickPeer {
  peer: { address: string };
  gateway: { public_key: string; endpoint: string };
  dns: string;
  allowed_ips: string;
}

export function renderPeerConfig(privateKey: string, c: WgQuickPeer): string {
  return [
    '[Interface]',
    `PrivateKey = ${privateKey}`,
    `Address = ${c.peer.address}/120`,
    `DNS = ${c.dns}`,
    '',
    '[Peer]',
    `PublicKey = ${c.gateway.public_key}`,
    `AllowedIPs = ${c.allowed_ips}`,
    `Endpoint = ${c.gateway.endpoint}`,
    'PersistentKeepalive = 15',
    '',
  ].join('\n');
}
