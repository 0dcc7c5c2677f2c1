// Versioned schema, portable between SQLite and PostgreSQL (BIGINT, TEXT, DOUBLE PRECISION).
import type { Migration } from './sql.js';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), rev BIGINT NOT NULL)`,
      `INSERT INTO revision (id, rev) VALUES (1, 0)`,
      `CREATE TABLE sequences (name TEXT PRIMARY KEY, last BIGINT NOT NULL)`,
      `INSERT INTO sequences (name, last) VALUES ('network', 0), ('host', 0)`,
      `CREATE TABLE changes (rev BIGINT PRIMARY KEY, at TEXT NOT NULL, ops TEXT NOT NULL)`,
      `CREATE TABLE regions (code TEXT PRIMARY KEY, name TEXT NOT NULL, latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL)`,
      `CREATE TABLE orgs (name TEXT PRIMARY KEY, network_id BIGINT NOT NULL, created_at TEXT NOT NULL)`,
      `CREATE TABLE networks (id BIGINT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(name), name TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (org, name))`,
      `CREATE TABLE apps (name TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(name), network_id BIGINT NOT NULL REFERENCES networks(id), created_at TEXT NOT NULL)`,
      `CREATE INDEX apps_org ON apps (org)`,
      `CREATE TABLE hosts (id BIGINT PRIMARY KEY, region TEXT NOT NULL REFERENCES regions(code), endpoint TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE, gateway INTEGER NOT NULL, created_at TEXT NOT NULL)`,
      `CREATE INDEX hosts_region ON hosts (region)`,
      `CREATE TABLE machines (
        id TEXT PRIMARY KEY, app TEXT NOT NULL REFERENCES apps(name), org TEXT NOT NULL, network_id BIGINT NOT NULL,
        host_id BIGINT NOT NULL REFERENCES hosts(id), machine_field BIGINT NOT NULL, region TEXT NOT NULL, address TEXT NOT NULL,
        state TEXT NOT NULL, reason TEXT, grp TEXT NOT NULL, metadata TEXT NOT NULL, command TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (host_id, machine_field))`,
      `CREATE INDEX machines_app ON machines (app)`,
      `CREATE INDEX machines_host_state ON machines (host_id, state)`,
      `CREATE TABLE peers (
        org TEXT NOT NULL REFERENCES orgs(name), name TEXT NOT NULL, network_id BIGINT NOT NULL, host_id BIGINT NOT NULL REFERENCES hosts(id),
        region TEXT NOT NULL, idx BIGINT NOT NULL, address TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE, app TEXT,
        created_at TEXT NOT NULL, PRIMARY KEY (org, name), UNIQUE (host_id, network_id, idx))`,
      `CREATE TABLE peer_status (
        org TEXT NOT NULL, name TEXT NOT NULL, latest_handshake BIGINT NOT NULL, rx_bytes BIGINT NOT NULL, tx_bytes BIGINT NOT NULL,
        endpoint TEXT, reported_at TEXT NOT NULL, PRIMARY KEY (org, name))`,
      `CREATE TABLE tokens (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, scope TEXT NOT NULL, org TEXT, host_id BIGINT,
        created_at TEXT NOT NULL, revoked_at TEXT)`,
    ],
  },
  {
    // Placement reads a per-host live-machine count instead of counting machines on every create.
    version: 2,
    statements: [
      `ALTER TABLE hosts ADD COLUMN machine_count BIGINT NOT NULL DEFAULT 0`,
      `UPDATE hosts SET machine_count = (SELECT COUNT(*) FROM machines m WHERE m.host_id = hosts.id AND m.state <> 'destroyed')`,
      `CREATE INDEX hosts_region_load ON hosts (region, machine_count, id)`,
    ],
  },
  {
    // The sixpn version each host runs, reported at enrollment and at every agent start.
    version: 3,
    statements: [`ALTER TABLE hosts ADD COLUMN version TEXT`],
  },
  {
    // When the carrying host last reported the machine attached (`machines create --wait` waits for it).
    version: 4,
    statements: [`ALTER TABLE machines ADD COLUMN attached_at TEXT`],
  },
  {
    // Token lifecycle (an app a wireguard token is made for, expiry, last use) and ephemeral peers.
    version: 5,
    statements: [
      `ALTER TABLE tokens ADD COLUMN app TEXT`,
      `ALTER TABLE tokens ADD COLUMN expires_at TEXT`,
      `ALTER TABLE tokens ADD COLUMN last_used_at TEXT`,
      `CREATE INDEX tokens_org ON tokens (org)`,
      `CREATE INDEX tokens_revoked ON tokens (revoked_at)`,
      `ALTER TABLE peers ADD COLUMN expires_at TEXT`,
      `CREATE INDEX peers_expires ON peers (expires_at)`,
    ],
  },
  {
    // Hosts lifecycle: the id of a host's current credential, when it was last
    // heard from (epoch ms; heartbeats), and removal (the row stays: lost machines name it).
    version: 6,
    statements: [
      `ALTER TABLE hosts ADD COLUMN credential_id TEXT`,
      `ALTER TABLE hosts ADD COLUMN last_seen_ms BIGINT`,
      `ALTER TABLE hosts ADD COLUMN removed_at TEXT`,
      `UPDATE hosts SET credential_id = (SELECT t.id FROM tokens t WHERE t.scope = 'host' AND t.host_id = hosts.id AND t.revoked_at IS NULL ORDER BY t.created_at DESC LIMIT 1)`,
    ],
  },
  {
    // Health checks, service ports, health and held leases on machines; the app-wide leases.
    version: 7,
    statements: [
      `ALTER TABLE machines ADD COLUMN checks TEXT NOT NULL DEFAULT '[]'`,
      `ALTER TABLE machines ADD COLUMN check_interval BIGINT NOT NULL DEFAULT 5`,
      `ALTER TABLE machines ADD COLUMN health TEXT NOT NULL DEFAULT 'none'`,
      `ALTER TABLE machines ADD COLUMN ports TEXT NOT NULL DEFAULT '[]'`,
      `ALTER TABLE machines ADD COLUMN leases TEXT NOT NULL DEFAULT '[]'`,
      `ALTER TABLE machines ADD COLUMN metadata_rev BIGINT NOT NULL DEFAULT 0`,
      `CREATE TABLE leases (app TEXT NOT NULL REFERENCES apps(name), name TEXT NOT NULL, holder TEXT, expires_at TEXT, fence BIGINT NOT NULL, PRIMARY KEY (app, name))`,
      `CREATE INDEX leases_holder ON leases (holder)`,
      `CREATE INDEX leases_expiry ON leases (expires_at)`,
    ],
  },
  {
    // What each host's agent last reported with its heartbeat (handshakes with
    // the other hosts, replica revisions): one JSON row per host, outside the feed.
    version: 8,
    statements: [`CREATE TABLE host_reports (host_id BIGINT PRIMARY KEY, reported_ms BIGINT NOT NULL, report TEXT NOT NULL)`],
  },
  {
    // The machine quota counts an org's live machines on every create: without this it scanned
    // every machine, so creating the 100,000th took a scan of 100,000 rows.
    version: 9,
    statements: [`CREATE INDEX machines_org_state ON machines (org, state)`],
  },
];
