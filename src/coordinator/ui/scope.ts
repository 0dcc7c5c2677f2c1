// What one dashboard stream may see, applied on the server: a snapshot and
// every change op pass through here before a byte is written. An org token
// sees its org's entities and the hosts that carry them; admin sees all.
import type { App, ChangeOp, EntityKind, Host, Machine, Network, Org, Peer, State } from '../../model/types.js';
import { entityKey } from '../../model/types.js';

export type Visibility = { all: true } | { all: false; org: string };

const KINDS: readonly EntityKind[] = ['org', 'network', 'app', 'host', 'machine', 'peer'];

export class ScopeView {
  /** every host, so one can be introduced when the org's first machine or peer lands on it */
  private readonly hosts = new Map<number, Host>();
  /** keys already shown to this stream, per kind: a delete is forwarded only for these */
  private readonly shown = new Map<EntityKind, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));

  constructor(readonly visibility: Visibility) {}

  /** The part of `state` this stream may see; resets what it has been shown. */
  snapshot(state: State): State {
    this.hosts.clear();
    for (const s of this.shown.values()) s.clear();
    for (const h of state.hosts) this.hosts.set(h.id, h);
    const v = this.visibility;
    if (v.all) {
      for (const kind of KINDS) for (const rec of listOf(state, kind)) this.shown.get(kind)!.add(entityKey(kind, rec));
      return state;
    }
    const mine = <T extends { org: string }>(rows: T[]): T[] => rows.filter((r) => r.org === v.org);
    const out: State = {
      regions: state.regions,
      orgs: state.orgs.filter((o) => o.name === v.org),
      networks: mine(state.networks),
      apps: mine(state.apps),
      machines: mine(state.machines),
      peers: mine(state.peers),
      hosts: [],
    };
    const used = new Set([...out.machines.map((m) => m.host_id), ...out.peers.map((p) => p.host_id)]);
    out.hosts = state.hosts.filter((h) => used.has(h.id));
    for (const kind of KINDS) for (const rec of listOf(out, kind)) this.shown.get(kind)!.add(entityKey(kind, rec));
    return out;
  }

  /** Keys (`org/name`) of the developer peers this stream shows. */
  peerKeys(): string[] {
    return [...this.shown.get('peer')!];
  }

  /** Ids of the hosts this stream shows. */
  hostIds(): number[] {
    return [...this.shown.get('host')!].map(Number);
  }

  /** The ops of one change this stream may see (possibly none), in order. */
  change(ops: ChangeOp[]): ChangeOp[] {
    const out: ChangeOp[] = [];
    for (const op of ops) {
      if (op.op === 'delete') {
        if (op.entity === 'host') this.hosts.delete(Number(op.key));
        if (this.shown.get(op.entity)!.delete(op.key)) out.push(op);
        continue;
      }
      if (op.entity === 'host') this.hosts.set(op.data.id, op.data);
      if (!this.visible(op)) continue;
      if ((op.entity === 'machine' || op.entity === 'peer') && !this.shown.get('host')!.has(String(op.data.host_id))) {
        const host = this.hosts.get(op.data.host_id);
        if (host) this.show({ entity: 'host', op: 'upsert', data: host }, out);
      }
      this.show(op, out);
    }
    return out;
  }

  private show(op: ChangeOp & { op: 'upsert' }, out: ChangeOp[]): void {
    this.shown.get(op.entity)!.add(entityKey(op.entity, op.data));
    out.push(op);
  }

  private visible(op: ChangeOp & { op: 'upsert' }): boolean {
    const v = this.visibility;
    if (v.all) return true;
    switch (op.entity) {
      case 'org':
        return op.data.name === v.org;
      case 'host':
        return this.shown.get('host')!.has(String(op.data.id));
      default:
        return op.data.org === v.org;
    }
  }
}

function listOf(state: State, kind: EntityKind): readonly (Org | Network | App | Host | Machine | Peer)[] {
  switch (kind) {
    case 'org':
      return state.orgs;
    case 'network':
      return state.networks;
    case 'app':
      return state.apps;
    case 'host':
      return state.hosts;
    case 'machine':
      return state.machines;
    case 'peer':
      return state.peers;
  }
}
