// Agent defaults, kept apart so argument parsing stays free of I/O modules.

/**
 * Default MTU inside the tunnel: 1280, the IPv6 minimum (as Tailscale).
 * Everything inside the mesh is IPv6, so no inner path can need less, and
 * the outer packet (1280 + 80 bytes of IPv6/UDP/WireGuard overhead = 1360)
 * still fits PPPoE (1492), cloud VPCs (1460), VXLAN/GRE overlays and nested
 * VPNs without relying on path-MTU discovery, whose ICMP is often filtered:
 * wg-quick's 1420 only fits a clean 1500-byte path and black-holes large
 * packets everywhere else. Raise it with --mtu on known-clean networks.
 */
export const DEFAULT_MTU = 1280;
export const DEFAULT_IFACE = 'sixpn0';
export const DEFAULT_WG_PORT = 51820;
/** Local port of the host's DNS server; fdaa:*::3 port 53 is redirected here. */
export const DEFAULT_DNS_PORT = 5354;
/** Local port of the machine API; fdaa:*::3 port 80 from attachments is redirected here. */
export const DEFAULT_MACHINE_API_PORT = 4281;
