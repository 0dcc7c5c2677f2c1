// One org: its networks and /48s, apps, machines and developer peers.
import type { Machine, Org } from '../../model/types.js';
import { bytes, handshakeAge, matches } from '../format.js';
import { networkPrefix48, type Mesh } from '../model.js';
import { Empty, field, Table } from './Table.js';

export function NoOrgs(props: { admin: boolean }) {
  return (
    <section class="card" aria-labelledby="no-orgs">
      <h2 id="no-orgs">No orgs yet</h2>
      <Empty testid="empty-state">
        {props.admin ? (
          <>
            Create one with <code>sixpn orgs create ORG</code>, then the first app with{' '}
          </>
        ) : (
          'Create the first app with '
        )}
        <code>sixpn apps create NAME --org ORG</code>.
      </Empty>
    </section>
  );
}

export function OrgView(props: { org: Org; mesh: Mesh; filter: string; now: number }) {
  const { org, mesh, filter, now } = props;
  const networks = [...mesh.networks.values()].filter((n) => n.org === org.name).sort((a, b) => a.id - b.id);
  const netName = new Map(networks.map((n) => [n.id, n.name]));
  const apps = [...mesh.apps.values()].filter((a) => a.org === org.name).sort((a, b) => a.name.localeCompare(b.name));
  const allMachines = [...mesh.machines.values()].filter((m) => m.org === org.name);
  const machineRow = (m: Machine): boolean =>
    matches(filter, m.id, m.app, m.region, m.state, m.address, field(m, 'health'), m.host_id, mesh.hosts.get(String(m.host_id))?.endpoint);
  const machines = allMachines.filter(machineRow).sort((a, b) => a.app.localeCompare(b.app) || a.created_at.localeCompare(b.created_at));
  const withHealth = allMachines.some((m) => field(m, 'health') !== null);
  const peers = [...mesh.peers.values()].filter((p) => p.org === org.name && matches(filter, p.name, p.region, p.address, p.app));
  const id = `org-${org.name}`;
  return (
    <section class="card org" aria-labelledby={id} data-org={org.name}>
      <h2 id={id}>Org {org.name}</h2>

      <h3>Networks</h3>
      <Table label={`Networks of ${org.name}`} head={['Network', 'Id', 'Prefix']} testid="networks">
        {networks
          .filter((n) => matches(filter, n.name, n.id, networkPrefix48(n.id)))
          .map((n) => (
            <tr key={n.id}>
              <td>{n.name}</td>
              <td>{n.id}</td>
              <td class="mono">{networkPrefix48(n.id)}</td>
            </tr>
          ))}
      </Table>

      <h3>Apps</h3>
      {apps.length === 0 ? (
        <Empty testid="empty-state">
          No apps in {org.name} yet. Create the first one with <code>sixpn apps create NAME --org {org.name}</code>, then a machine with{' '}
          <code>sixpn machines create --app NAME --region REGION</code>.
        </Empty>
      ) : (
        <Table label={`Apps of ${org.name}`} head={['App', 'Network', 'Machines', 'Started']} testid="apps">
          {apps
            .filter((a) => matches(filter, a.name, netName.get(a.network_id)))
            .map((a) => {
              const ms = allMachines.filter((m) => m.app === a.name);
              return (
                <tr key={a.name} data-app={a.name}>
                  <td>{a.name}</td>
                  <td>{netName.get(a.network_id) ?? a.network_id}</td>
                  <td>{ms.length}</td>
                  <td>{ms.filter((m) => m.state === 'started').length}</td>
                </tr>
              );
            })}
        </Table>
      )}

      <h3>Machines</h3>
      {allMachines.length === 0 ? (
        <Empty>
          No machines in {org.name}
          {apps.length > 0 ? (
            <>
              : <code>sixpn machines create --app {apps[0]!.name} --region REGION</code>
            </>
          ) : (
            ''
          )}
          .
        </Empty>
      ) : (
        <Table
          label={`Machines of ${org.name}`}
          head={['Machine', 'App', 'Region', 'State', ...(withHealth ? ['Health'] : []), 'Address', 'Host']}
          testid="machines"
        >
          {machines.map((m) => (
            <tr key={m.id} data-machine={m.id}>
              <td class="mono">{m.id}</td>
              <td>{m.app}</td>
              <td>{m.region}</td>
              <td>
                <span class={`badge state-${m.state}`} data-state={m.state} title={m.reason ?? undefined}>
                  {m.state}
                </span>
              </td>
              {withHealth && (
                <td>
                  <span class={`badge health-${field(m, 'health') ?? 'none'}`}>{field(m, 'health') ?? 'none'}</span>
                </td>
              )}
              <td class="mono">{m.address}</td>
              <td>{m.host_id}</td>
            </tr>
          ))}
        </Table>
      )}

      <h3>Developer peers</h3>
      {peers.length === 0 ? (
        <Empty>
          No developer peers
          {filter ? (
            ' match'
          ) : (
            <>
              : <code>sixpn wireguard create {org.name} REGION NAME</code>
            </>
          )}
          .
        </Empty>
      ) : (
        <Table
          label={`Developer peers of ${org.name}`}
          head={['Peer', 'Region', 'Address', 'Gateway', 'Last handshake', 'From peer', 'To peer']}
          testid="peers"
        >
          {peers.map((p) => {
            const s = mesh.peerStatus[`${p.org}/${p.name}`] ?? null;
            const gw = mesh.hosts.get(String(p.host_id));
            return (
              <tr key={p.name} data-peer={p.name}>
                <td>{p.name}</td>
                <td>{p.region}</td>
                <td class="mono">{p.address}</td>
                <td class="mono">{gw ? gw.endpoint : `host ${p.host_id}`}</td>
                <td>{s ? handshakeAge(s.latest_handshake, now) : 'no report'}</td>
                <td>{s ? bytes(s.rx_bytes) : '–'}</td>
                <td>{s ? bytes(s.tx_bytes) : '–'}</td>
              </tr>
            );
          })}
        </Table>
      )}
    </section>
  );
}
