// In-memory copy of the coordinator state, fed by the change feed.
// Consumers (DNS index, agent reconciler) read it and rebuild their own
// derived views after each update; a snapshot replaces every map at once.
import { EventEmitter } from 'node:events';
import type { App, ChangeOp, ChangeRecord, Host, Machine, Network, Org, Peer, Region, State } from '../model/types.js';
import { entityKey } from '../model/types.js';

export interface ReplicaUpdate {
  rev: number;
  /** null after a snapshot: everything may have changed */
  ops: ChangeOp[] | null;
}

export class Replica extends EventEmitter {
  rev = 0;
  ready = false;
  regions = new Map<string, Region>();
  orgs = new Map<string, Org>();
  networks = new Map<string, Network>();
  apps = new Map<string, App>();
  hosts = new Map<string, Host>();
  machines = new Map<string, Machine>();
  peers = new Map<string, Peer>();

  /** Call `fn` after every snapshot or change; returns the unsubscribe. */
  subscribe(fn: (u: ReplicaUpdate) => void): () => void {
    this.on('update', fn);
    return () => { this.off('update', fn); };
  }

  applySnapshot(rev: number, state: State): void {
    this.regions = new Map(state.regions.map((r) => [r.code, r]));
    this.orgs = new Map(state.orgs.map((o) => [entityKey('org', o), o]));
    this.networks = new Map(state.networks.map((n) => [entityKey('network', n), n]));
    this.apps = new Map(state.apps.map((a) => [entityKey('app', a), a]));
    this.hosts = new Map(state.hosts.map((h) => [entityKey('host', h), h]));
    this.machines = new Map(state.machines.filter((m) => m.state !== 'destroyed').map((m) => [entityKey('machine', m), m]));
    this.peers = new Map(state.peers.map((p) => [entityKey('peer', p), p]));
    this.rev = rev;
    this.ready = true;
    this.emit('update', { rev, ops: null } satisfies ReplicaUpdate);
  }

  applyChange(rec: ChangeRecord): void {
    if (rec.rev <= this.rev) return; // already seen (resume overlap)
    for (const op of rec.ops) this.applyOp(op);
    this.rev = rec.rev;
    this.emit('update', { rev: rec.rev, ops: rec.ops } satisfies ReplicaUpdate);
  }

  private mapOf(entity: ChangeOp['entity']): Map<string, unknown> {
    switch (entity) {
      case 'org': return this.orgs;
      case 'network': return this.networks;
      case 'app': return this.apps;
      case 'host': return this.hosts;
      case 'machine': return this.machines;
      case 'peer': return this.peers;
    }
  }

  private applyOp(op: ChangeOp): void {
    const map = this.mapOf(op.entity);
    if (op.op === 'delete') { map.delete(op.key); return; }
    if (op.entity === 'machine' && op.data.state === 'destroyed') { map.delete(op.data.id); return; }
    map.set(entityKey(op.entity, op.data), op.data);
  }

  toState(): State {
    return {
      regions: [...this.regions.values()],
      orgs: [...this.orgs.values()],
      networks: [...this.networks.values()],
      apps: [...this.apps.values()],
      hosts: [...this.hosts.values()],
      machines: [...this.machines.values()],
      peers: [...this.peers.values()],
    };
  }
}

