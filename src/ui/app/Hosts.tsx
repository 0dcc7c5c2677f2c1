// The hosts this token may see: endpoint, gateway role, version and last seen
// when the host record has them, the handshake ages of the peers it carries,
// and of the other hosts shown, when their agents report them.
import { handshakeAge, isoAge, matches } from '../format.js';
import type { Mesh } from '../model.js';
import { Empty, field, Table } from './Table.js';

export function Hosts(props: { mesh: Mesh; filter: string; now: number }) {
  const { mesh, filter, now } = props;
  const all = [...mesh.hosts.values()].sort((a, b) => a.id - b.id);
  const hosts = all.filter((h) => matches(filter, h.id, h.region, h.endpoint, h.gateway ? 'gateway' : '', field(h, 'version')));
  const withVersion = all.some((h) => field(h, 'version') !== null);
  const withSeen = all.some((h) => field(h, 'last_seen', 'last_seen_at', 'heartbeat_at') !== null);
  const withLinks = all.some((h) => mesh.hostStatus[h.id] !== undefined);
  const machines = [...mesh.machines.values()];
  const peers = [...mesh.peers.values()];
  return (
    <section class="card" aria-labelledby="hosts-h">
      <h2 id="hosts-h">Hosts</h2>
      {all.length === 0 ? (
        <Empty>
          No hosts carry anything of yours yet. A host joins with <code>sixpn agent --coordinator URL --enroll-token T</code>.
        </Empty>
      ) : (
        <Table
          label="Hosts"
          testid="hosts"
          head={[
            'Host',
            'Region',
            'Endpoint',
            'Gateway',
            ...(withVersion ? ['Version'] : []),
            ...(withSeen ? ['Last seen'] : []),
            'Machines',
            'Peer handshakes',
            ...(withLinks ? ['Host handshakes'] : []),
          ]}
        >
          {hosts.map((h) => {
            const carried = peers.filter((p) => p.host_id === h.id);
            return (
              <tr key={h.id} data-host={h.id}>
                <td>{h.id}</td>
                <td>{h.region}</td>
                <td class="mono">{h.endpoint}</td>
                <td>{h.gateway ? 'gateway' : '–'}</td>
                {withVersion && <td>{field(h, 'version') ?? '–'}</td>}
                {withSeen && <td>{isoAge(field(h, 'last_seen', 'last_seen_at', 'heartbeat_at'), now)}</td>}
                <td>{machines.filter((m) => m.host_id === h.id).length}</td>
                <td>
                  {carried.length === 0 ? (
                    '–'
                  ) : (
                    <ul class="plain">
                      {carried.map((p) => {
                        const s = mesh.peerStatus[`${p.org}/${p.name}`];
                        return (
                          <li key={p.name}>
                            {p.name}: {s ? handshakeAge(s.latest_handshake, now) : 'no report'}
                          </li>
                        );
                      })}
                    </ul>
                  )}
                </td>
                {withLinks && <HostLinks mesh={mesh} id={h.id} now={now} />}
              </tr>
            );
          })}
        </Table>
      )}
    </section>
  );
}

/** This host's handshakes with the other hosts shown, as its agent last reported them. */
function HostLinks(props: { mesh: Mesh; id: number; now: number }) {
  const links = props.mesh.hostStatus[props.id];
  if (!links) return <td>no report</td>;
  if (links.length === 0) return <td>–</td>;
  return (
    <td data-testid="host-links">
      <ul class="plain">
        {links.map((l) => (
          <li key={l.host_id}>
            host {l.host_id} ({props.mesh.hosts.get(String(l.host_id))?.region ?? '?'}): {isoAge(l.latest_handshake, props.now)}
          </li>
        ))}
      </ul>
    </td>
  );
}
