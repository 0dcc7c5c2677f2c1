// The page's copy of the mesh, pure (no DOM): built from the stream's
// snapshot, patched by its changes, and each step described for the panel of
// last changes. A snapshot after a reconnect is compared with what the page
// had, so what happened while it was away still shows up in the panel.
import type { App, ChangeOp, Host, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import type { HostStatusMap, PeerStatusMap, UiMessage } from './protocol.js';

export interface Mesh {
  rev: number;
  regions: Map<string, Region>;
  orgs: Map<string, Org>;
  networks: Map<string, Network>;
  apps: Map<string, App>;
  hosts: Map<string, Host>;
  /** destroyed machines leave the map (the panel keeps the event) */
  machines: Map<string, Machine>;
  peers: Map<string, Peer>;
  peerStatus: PeerStatusMap;
  /** hosts' handshakes with each other (keyed host id), from their agents' reports */
  hostStatus: HostStatusMap;
}

export interface ChangeEntry {
  /** unique per page, for list keys */
  seq: number;
  at: string;
  rev: number;
  org: string | null;
  text: string;
}

export function emptyMesh(): Mesh {
  return {
    rev: 0,
    regions: new Map(),
    orgs: new Map(),
    networks: new Map(),
    apps: new Map(),
    hosts: new Map(),
    machines: new Map(),
    peers: new Map(),
    peerStatus: {},
    hostStatus: {},
  };
}

export function meshFromState(rev: number, state: State, peerStatus: PeerStatusMap): Mesh {
  const by = <T>(rows: T[], key: (r: T) => string): Map<string, T> => new Map(rows.map((r) => [key(r), r]));
  return {
    rev,
    regions: by(state.regions, (r) => r.code),
    orgs: by(state.orgs, (o) => o.name),
    networks: by(state.networks, (n) => String(n.id)),
    apps: by(state.apps, (a) => a.name),
    hosts: by(state.hosts, (h) => String(h.id)),
    machines: by(
      state.machines.filter((m) => m.state !== 'destroyed' && m.state !== 'lost'),
      (m) => m.id,
    ),
    peers: by(state.peers, (p) => `${p.org}/${p.name}`),
    peerStatus: { ...peerStatus },
    hostStatus: {},
  };
}

let seq = 0;
function entry(at: string, rev: number, org: string | null, text: string): ChangeEntry {
  seq += 1;
  return { seq, at, rev, org, text };
}

function describeMachine(m: Machine): string {
  return `machine ${m.id} (${m.app}, ${m.region})`;
}

/** Apply one stream message to `mesh` in place; the panel entries it makes, oldest first. */
export function applyMessage(mesh: Mesh, msg: UiMessage, hadSnapshot: boolean): { mesh: Mesh; entries: ChangeEntry[] } {
  switch (msg.type) {
    case 'snapshot': {
      const next = meshFromState(msg.rev, msg.state, msg.peer_status);
      return { mesh: next, entries: hadSnapshot ? diffMeshes(mesh, next, new Date().toISOString()) : [] };
    }
    case 'change': {
      const entries: ChangeEntry[] = [];
      for (const op of msg.ops) {
        const text = applyOp(mesh, op);
        if (text) entries.push(entry(msg.at, msg.rev, orgOf(op), text));
      }
      mesh.rev = msg.rev;
      return { mesh, entries };
    }
    case 'peer_status':
      mesh.peerStatus = { ...mesh.peerStatus, ...msg.status };
      return { mesh, entries: [] };
    case 'host_status':
      mesh.hostStatus = { ...mesh.hostStatus, ...msg.status };
      return { mesh, entries: [] };
    case 'heartbeat':
      mesh.rev = Math.max(mesh.rev, msg.rev);
      return { mesh, entries: [] };
    default:
      return { mesh, entries: [] };
  }
}

function orgOf(op: ChangeOp): string | null {
  if (op.op === 'delete') return op.entity === 'peer' ? op.key.split('/')[0]! : null;
  switch (op.entity) {
    case 'org':
      return op.data.name;
    case 'host':
      return null;
    default:
      return op.data.org;
  }
}

/** Patch the mesh with one op; a line for the panel, or null when nothing worth telling changed. */
export function applyOp(mesh: Mesh, op: ChangeOp): string | null {
  if (op.op === 'delete') {
    const maps = { org: mesh.orgs, network: mesh.networks, app: mesh.apps, host: mesh.hosts, machine: mesh.machines, peer: mesh.peers } as const;
    maps[op.entity].delete(op.key);
    if (op.entity === 'peer') delete mesh.peerStatus[op.key];
    if (op.entity === 'host') delete mesh.hostStatus[op.key];
    return `${op.entity} ${op.key} removed`;
  }
  switch (op.entity) {
    case 'org': {
      const had = mesh.orgs.has(op.data.name);
      mesh.orgs.set(op.data.name, op.data);
      return had ? null : `org ${op.data.name} created`;
    }
    case 'network': {
      const had = mesh.networks.has(String(op.data.id));
      mesh.networks.set(String(op.data.id), op.data);
      return had ? null : `network ${op.data.name} (${networkPrefix48(op.data.id)}) created in ${op.data.org}`;
    }
    case 'app': {
      const had = mesh.apps.has(op.data.name);
      mesh.apps.set(op.data.name, op.data);
      return had ? null : `app ${op.data.name} created in ${op.data.org}`;
    }
    case 'host': {
      const before = mesh.hosts.get(String(op.data.id));
      mesh.hosts.set(String(op.data.id), op.data);
      if (!before) return `host ${op.data.id} in ${op.data.region} (${op.data.endpoint})${op.data.gateway ? ', gateway' : ''}`;
      return before.endpoint !== op.data.endpoint ? `host ${op.data.id} moved to ${op.data.endpoint}` : null;
    }
    case 'machine': {
      const m = op.data;
      const before = mesh.machines.get(m.id);
      if (m.state === 'destroyed' || m.state === 'lost') mesh.machines.delete(m.id);
      else mesh.machines.set(m.id, m);
      if (!before) return m.state === 'destroyed' ? `${describeMachine(m)} destroyed` : `${describeMachine(m)} created: ${m.state}`;
      if (before.state !== m.state) return `${describeMachine(m)} ${before.state} → ${m.state}${m.reason ? ` (${m.reason})` : ''}`;
      const health = (x: Machine): unknown => (x as unknown as Record<string, unknown>).health;
      if (health(before) !== health(m)) return `${describeMachine(m)} health ${String(health(before) ?? 'none')} → ${String(health(m) ?? 'none')}`;
      if (JSON.stringify(before.metadata) !== JSON.stringify(m.metadata)) return `${describeMachine(m)} metadata updated`;
      return null;
    }
    case 'peer': {
      const key = `${op.data.org}/${op.data.name}`;
      const had = mesh.peers.has(key);
      mesh.peers.set(key, op.data);
      return had ? null : `peer ${op.data.name} added in ${op.data.region} (${op.data.org})`;
    }
  }
}

/** What changed between two snapshots (the page was disconnected meanwhile). */
export function diffMeshes(before: Mesh, after: Mesh, at: string): ChangeEntry[] {
  const out: ChangeEntry[] = [];
  const note = (org: string | null, text: string): void => {
    out.push(entry(at, after.rev, org, `${text} (while disconnected)`));
  };
  for (const [k, a] of after.apps) if (!before.apps.has(k)) note(a.org, `app ${a.name} created in ${a.org}`);
  for (const [id, m] of after.machines) {
    const b = before.machines.get(id);
    if (!b) note(m.org, `${describeMachine(m)} created: ${m.state}`);
    else if (b.state !== m.state) note(m.org, `${describeMachine(m)} ${b.state} → ${m.state}`);
  }
  for (const [id, m] of before.machines) if (!after.machines.has(id)) note(m.org, `${describeMachine(m)} destroyed`);
  for (const [k, p] of after.peers) if (!before.peers.has(k)) note(p.org, `peer ${p.name} added in ${p.region} (${p.org})`);
  for (const [k, p] of before.peers) if (!after.peers.has(k)) note(p.org, `peer ${k} removed`);
  return out;
}

/** fdaa:N:N::/48 in RFC 5952 form (the address plan's network prefix, without a library in the page). */
export function networkPrefix48(networkId: number): string {
  const groups = [0xfdaa, (networkId >>> 16) & 0xffff, networkId & 0xffff, 0, 0, 0, 0, 0];
  // The longest run of zero groups (two or more) becomes "::"; here it always includes the tail.
  let start = groups.length;
  while (start > 0 && groups[start - 1] === 0) start -= 1;
  const head = groups.slice(0, start).map((g) => g.toString(16));
  return `${head.join(':')}::/48`;
}

/** Machines and hosts per region, for the map. */
export function regionCounts(mesh: Mesh, machines: Iterable<Machine> = mesh.machines.values()): Map<string, { hosts: number; machines: number }> {
  const out = new Map<string, { hosts: number; machines: number }>();
  const get = (code: string): { hosts: number; machines: number } => {
    let c = out.get(code);
    if (!c) {
      c = { hosts: 0, machines: 0 };
      out.set(code, c);
    }
    return c;
  };
  for (const h of mesh.hosts.values()) get(h.region).hosts += 1;
  for (const m of machines) get(m.region).machines += 1;
  return out;
}
