// IPv6 forwarding for the interfaces the agent owns (its WireGuard device and
// the host side of each attachment), never `all`: `all/forwarding=1` turns
// every interface into a router, and an uplink that takes router
// advertisements (accept_ra=1) then drops them and loses its default route.
// `forwarding` makes the interface a router; `force_forwarding` (Linux 6.17+)
// makes the kernel forward what arrives on it without `all`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const conf = (iface: string, key: string): string => `/proc/sys/net/ipv6/conf/${iface}/${key}`;

/** Returns null when forwarding works through `iface`, else why not (the kernel cannot forward per interface and `all` is off). */
export function enableInterfaceForwarding(iface: string, root = ''): string | null {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new Error(`bad interface name ${JSON.stringify(iface)}`);
  writeFileSync(root + conf(iface, 'forwarding'), '1\n');
  if (existsSync(root + conf(iface, 'force_forwarding'))) {
    writeFileSync(root + conf(iface, 'force_forwarding'), '1\n');
    return null;
  }
  if (readFileSync(root + conf('all', 'forwarding'), 'utf8').trim() === '1') return null;
  return 'this kernel forwards IPv6 only with net.ipv6.conf.all.forwarding=1 (per-interface force_forwarding needs Linux 6.17+): set it yourself, with accept_ra=2 on uplinks that take router advertisements';
}
