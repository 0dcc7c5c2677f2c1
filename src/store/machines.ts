// Machines: placed on a host at creation (see addr/placement.ts), addressed
// by the plan, then moved through their states by the operator (intent) and
// by their host (what became of them). Destroyed machines stay as records.
import { allocateMachineId, machineAddress, machineFieldOf } from '../addr/plan.js';
import { placeMachine } from '../addr/placement.js';
import { AppError, notFound } from '../errors.js';
import type { Machine, MachineCheck, MachineHealth, MachinePort, MachineState } from '../model/types.js';
import { CHECK_INTERVAL_DEFAULT, METADATA_MAX_KEYS } from '../validate.js';
import { requireApp } from './apps.js';
import { ALWAYS_REACHABLE, countMachine, machineHostCandidates, type Liveness } from './hosts.js';
import { requireRegion } from './regions.js';
import { now, type Tx } from './sql.js';

export interface CreateMachineInput {
  app: string;
  region: string;
  group?: string;
  metadata?: Record<string, string>;
  stopped?: boolean;
  command?: string[] | null;
  checks?: MachineCheck[];
  /** seconds */
  check_interval?: number;
  ports?: MachinePort[];
}

export interface MachineFilter {
  app?: string;
  host_id?: number;
  all?: boolean;
}

interface MachineRow {
  id: string;
  app: string;
  org: string;
  network_id: number | string;
  host_id: number | string;
  machine_field: number | string;
  region: string;
  address: string;
  state: string;
  reason: string | null;
  grp: string;
  metadata: string;
  command: string | null;
  created_at: string;
  updated_at: string;
  attached_at: string | null;
  checks: string;
  check_interval: number | string;
  health: string;
  ports: string;
  leases: string;
  metadata_rev: number | string;
}

const COLS =
  'id, app, org, network_id, host_id, machine_field, region, address, state, reason, grp, metadata, command, created_at, updated_at, attached_at, ' +
  'checks, check_interval, health, ports, leases, metadata_rev';

const toMachine = (r: MachineRow): Machine => ({
  id: r.id,
  app: r.app,
  org: r.org,
  network_id: Number(r.network_id),
  host_id: Number(r.host_id),
  region: r.region,
  address: r.address,
  state: r.state as MachineState,
  reason: r.reason,
  group: r.grp,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  command: r.command === null ? null : (JSON.parse(r.command) as string[]),
  created_at: r.created_at,
  updated_at: r.updated_at,
  attached_at: r.attached_at ?? null,
  checks: JSON.parse(r.checks) as MachineCheck[],
  check_interval: Number(r.check_interval),
  health: r.health as MachineHealth,
  ports: JSON.parse(r.ports) as MachinePort[],
  leases: JSON.parse(r.leases) as string[],
  metadata_rev: Number(r.metadata_rev),
});

export async function createMachine(tx: Tx, input: CreateMachineInput, randomHex: () => string, live: Liveness = ALWAYS_REACHABLE): Promise<Machine> {
  const app = await requireApp(tx, input.app);
  await requireRegion(tx, input.region);
  const hostId = placeMachine(await machineHostCandidates(tx, input.region, live), input.region);
  // Random 32-bit machine fields collide rarely; retry a few times, then call the host full.
  const usedFields = new Set<number>();
  let id = '';
  for (let attempt = 0; attempt < 16 && !id; attempt++) {
    const candidate = allocateMachineId((f) => usedFields.has(f), randomHex);
    const field = machineFieldOf(candidate);
    const taken = await tx.get('SELECT 1 FROM machines WHERE (host_id = ? AND machine_field = ?) OR id = ?', [hostId, field, candidate]);
    if (taken) usedFields.add(field);
    else id = candidate;
  }
  if (!id) throw new AppError('host_full', `host ${hostId} has no free machine address`);
  const field = machineFieldOf(id);
  const at = now();
  const machine: Machine = {
    id,
    app: app.name,
    org: app.org,
    network_id: app.network_id,
    host_id: hostId,
    region: input.region,
    address: machineAddress(app.network_id, hostId, field),
    state: input.stopped ? 'created' : 'started',
    reason: null,
    group: input.group ?? 'app',
    metadata: input.metadata ?? {},
    command: input.command ?? null,
    created_at: at,
    updated_at: at,
    attached_at: null,
    // with checks, a machine is out of DNS until its first check passes
    checks: input.checks ?? [],
    check_interval: input.check_interval ?? CHECK_INTERVAL_DEFAULT,
    health: input.checks?.length ? 'critical' : 'none',
    ports: input.ports ?? [],
    leases: [],
    metadata_rev: 0,
  };
  await tx.run(`INSERT INTO machines (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    machine.id,
    machine.app,
    machine.org,
    machine.network_id,
    hostId,
    field,
    machine.region,
    machine.address,
    machine.state,
    null,
    machine.group,
    JSON.stringify(machine.metadata),
    machine.command ? JSON.stringify(machine.command) : null,
    at,
    at,
    null,
    JSON.stringify(machine.checks),
    machine.check_interval!,
    machine.health!,
    JSON.stringify(machine.ports),
    '[]',
    0,
  ]);
  await countMachine(tx, hostId, 1);
  return machine;
}

export async function requireMachine(tx: Tx, id: string): Promise<Machine> {
  const r = await tx.get<MachineRow>(`SELECT ${COLS} FROM machines WHERE id = ?`, [id]);
  if (!r) throw notFound('machine', id);
  return toMachine(r);
}

export async function listMachines(tx: Tx, filter: MachineFilter): Promise<Machine[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.app !== undefined) {
    where.push('app = ?');
    params.push(filter.app);
  }
  if (filter.host_id !== undefined) {
    where.push('host_id = ?');
    params.push(filter.host_id);
  }
  if (!filter.all) where.push("state <> 'destroyed'");
  const sql = `SELECT ${COLS} FROM machines${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
  return (await tx.all<MachineRow>(sql, params)).map(toMachine);
}

/** Live machines by id, as a snapshot carries them. */
export async function liveMachines(tx: Tx): Promise<Machine[]> {
  return (await tx.all<MachineRow>(`SELECT ${COLS} FROM machines WHERE state NOT IN ('destroyed', 'lost') ORDER BY id`)).map(toMachine);
}

/** One page of liveMachines, after the id `after` (keyset paging for a streamed snapshot). */
export async function liveMachinesPage(tx: Tx, after: string | null, limit: number): Promise<Machine[]> {
  const sql = `SELECT ${COLS} FROM machines WHERE state NOT IN ('destroyed', 'lost') AND id > ? ORDER BY id LIMIT ?`;
  return (await tx.all<MachineRow>(sql, [after ?? '', limit])).map(toMachine);
}

/** The host was removed: its machines that were not destroyed become `lost` (they leave DNS and every host's routes). */
export async function loseHostMachines(tx: Tx, hostId: number): Promise<Machine[]> {
  const rows = await tx.all<MachineRow>(`SELECT ${COLS} FROM machines WHERE host_id = ? AND state NOT IN ('destroyed', 'lost') ORDER BY id`, [hostId]);
  const out: Machine[] = [];
  for (const r of rows) {
    const m: Machine = { ...toMachine(r), state: 'lost', reason: `host ${hostId} was removed` };
    await dropLeases(tx, m); // a removed host's machines hold no lease
    out.push(await saveMachine(tx, m));
  }
  return out;
}

/**
 * Store the mutable fields (state, reason, metadata, health, leases) and stamp
 * `updated_at`, unless `touch` is false: health flips and lease changes leave
 * it alone, because agents read it as the machine's generation (a new one
 * runs an ended command again).
 */
export async function saveMachine(tx: Tx, m: Machine, touch = true): Promise<Machine> {
  if (touch) m.updated_at = now();
  await tx.run(
    'UPDATE machines SET state = ?, reason = ?, metadata = ?, updated_at = ?, attached_at = ?, health = ?, leases = ?, metadata_rev = ? WHERE id = ?',
    [
      m.state,
      m.reason,
      JSON.stringify(m.metadata),
      m.updated_at,
      m.attached_at ?? null,
      m.health ?? 'none',
      JSON.stringify(m.leases ?? []),
      m.metadata_rev ?? 0,
      m.id,
    ],
  );
  return m;
}

/** A write's outcome: the machine as it is now, and whether the write changed it. */
export interface MachineWrite {
  machine: Machine;
  changed: boolean;
}

/** Operator intent: start, stop or destroy. Destroyed is final. */
export async function setMachineState(tx: Tx, id: string, state: 'started' | 'stopped' | 'destroyed'): Promise<MachineWrite> {
  const m = await requireMachine(tx, id);
  if (m.state === 'destroyed') {
    if (state === 'destroyed') return { machine: m, changed: false };
    throw new AppError('conflict', `machine ${id} is destroyed`);
  }
  // Its host was removed: it can only be destroyed.
  if (m.state === 'lost' && state !== 'destroyed') throw new AppError('conflict', `machine ${id} is lost (its host ${m.host_id} was removed): destroy it`);
  if (m.state === state && m.reason === null) return { machine: m, changed: false };
  if (state === 'destroyed') await countMachine(tx, m.host_id, -1);
  // a (re)started machine with checks is out of DNS until a check passes again
  if (state === 'started' && m.state !== 'started' && m.checks?.length) m.health = 'critical';
  m.state = state;
  m.reason = null;
  m.attached_at = null; // its host reports it attached again
  if (state !== 'started') await dropLeases(tx, m);
  return { machine: await saveMachine(tx, m), changed: true };
}

/** A machine that stops, fails or turns critical holds no lease any more (same transaction). */
export async function dropLeases(tx: Tx, m: Machine): Promise<void> {
  if (!m.leases?.length) return;
  await tx.run('UPDATE leases SET holder = NULL, expires_at = NULL WHERE holder = ?', [m.id]);
  m.leases = [];
}

/**
 * A host reports the outcome of a machine's checks. Only a change is
 * written (the feed carries a flip, not every round); a machine without
 * checks stays `none`; a critical machine loses its leases.
 */
export async function reportMachineHealth(tx: Tx, hostId: number, id: string, health: 'passing' | 'critical'): Promise<MachineWrite> {
  const m = await requireMachine(tx, id);
  if (m.host_id !== hostId) throw new AppError('forbidden', `machine ${id} is not on host ${hostId}`);
  if (m.state === 'destroyed' || !m.checks?.length || m.health === health) return { machine: m, changed: false };
  m.health = health;
  if (health === 'critical') await dropLeases(tx, m);
  return { machine: await saveMachine(tx, m, false), changed: true };
}

/**
 * A host reports what became of a machine it carries: `failed` (attachment
 * failed, with reason) or `stopped` (its command exited). Only a started
 * machine moves; a report that lost a race with an operator change is ignored.
 */
export async function reportMachineState(
  tx: Tx,
  hostId: number,
  id: string,
  state: 'started' | 'stopped' | 'failed',
  reason: string | null,
): Promise<MachineWrite> {
  const m = await requireMachine(tx, id);
  if (m.host_id !== hostId) throw new AppError('forbidden', `machine ${id} is not on host ${hostId}`);
  if (m.state !== 'started') return { machine: m, changed: false };
  if (state === 'started') {
    // Attached: recorded without touching updated_at, which agents read as the machine's generation.
    if (m.attached_at) return { machine: m, changed: false };
    m.attached_at = now();
    await tx.run('UPDATE machines SET attached_at = ? WHERE id = ?', [m.attached_at, m.id]);
    return { machine: m, changed: true };
  }
  m.state = state;
  m.attached_at = null;
  m.reason = state === 'failed' ? (reason ?? 'attachment failed') : reason;
  await dropLeases(tx, m);
  return { machine: await saveMachine(tx, m), changed: true };
}

/** Set (or, with null, remove) one metadata key of a live machine. */
export async function setMachineMetadata(tx: Tx, id: string, key: string, value: string | null, ifMatch?: number): Promise<MachineWrite> {
  const m = await requireMachine(tx, id);
  if (m.state === 'destroyed') throw new AppError('conflict', `machine ${id} is destroyed`);
  // a conditional write (If-Match): a deposed primary cannot overwrite its successor's view
  if (ifMatch !== undefined && (m.metadata_rev ?? 0) !== ifMatch) {
    throw new AppError('precondition_failed', `metadata of machine ${id} is at revision ${m.metadata_rev ?? 0}, not ${ifMatch}`);
  }
  if (value === null) {
    if (!(key in m.metadata)) throw notFound('metadata key', key);
    delete m.metadata[key];
  } else {
    if (m.metadata[key] === value) return { machine: m, changed: false };
    if (!(key in m.metadata) && Object.keys(m.metadata).length >= METADATA_MAX_KEYS) {
      throw new AppError('invalid', `a machine holds at most ${METADATA_MAX_KEYS} metadata keys`);
    }
    m.metadata[key] = value;
  }
  m.metadata_rev = (m.metadata_rev ?? 0) + 1;
  return { machine: await saveMachine(tx, m), changed: true };
}
