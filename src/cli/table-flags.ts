// Flag specs and helpers shared by the command table's groups (table.ts,
// table-services.ts, table-mesh.ts): one spec per idea, so help and parsing agree.
import { LOG_LEVELS } from '../log-levels.js';
import type { FlagSpec, Handler } from './spec.js';

export const SERVICES = 'Run the services:';
export const MANAGE = 'Manage the mesh:';
export const OTHER = 'Other:';

export const logLevel: FlagSpec = { name: 'log-level', value: 'L', help: 'log level', default: 'info', env: 'SIXPN_LOG_LEVEL', choices: LOG_LEVELS };
export const logFormat: FlagSpec = {
  name: 'log-format',
  value: 'F',
  help: 'log lines for people (pino-pretty) or JSON (the journal)',
  default: 'pretty when stderr is a terminal, else json',
  env: 'SIXPN_LOG_FORMAT',
  choices: ['pretty', 'json'],
};
export const ca: FlagSpec = {
  name: 'ca',
  value: 'FILE',
  help: "PEM of the CA that signs the coordinator's certificate (replaces the system CAs)",
  complete: 'file',
};
export const insecure: FlagSpec = { name: 'insecure', help: 'allow plain http:// to a coordinator that is not on loopback (the token crosses in clear)' };
export const metrics: FlagSpec = {
  name: 'metrics',
  value: 'IP:PORT',
  help: 'serve Prometheus metrics at http://IP:PORT/metrics (keep it on loopback or a management address)',
};
export const org = (help = 'the organization'): FlagSpec => ({ name: 'org', value: 'ORG', help, required: true });
export const machineId = [{ name: 'ID', help: 'the machine id (14 hex characters)' }];
export const machineFlags: FlagSpec[] = [
  { name: 'app', value: 'APP', help: 'the app the machine belongs to', required: true },
  { name: 'region', value: 'CODE', help: 'the region to place it in (a host there is picked)', required: true },
  { name: 'group', value: 'G', help: 'process group (a DNS label)', default: 'app' },
  { name: 'meta', value: 'K=V', help: 'metadata (key: a-z 0-9 - _; value: printable, no spaces)', repeat: true },
  { name: 'stopped', help: 'create it stopped' },
  { name: 'wait', help: 'return once its host reports it attached (its name then answers there); exit 1 with the reason if it fails' },
  { name: 'wait-timeout', value: 'D', help: 'how long --wait waits', default: '60s' },
  { name: 'check', value: 'SPEC', help: 'health check: tcp:PORT or http:PORT/PATH (at most 8; failing: out of DNS)', repeat: true },
  { name: 'check-interval', value: 'D', help: 'time between check rounds (1s..1h)', default: '5s' },
  { name: 'port', value: 'NAME:PORT', help: 'service port, [/tcp|/udp] after it: SRV _NAME._tcp.<app>.internal (at most 16)', repeat: true },
];
export const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Handler) =>
  async (): Promise<Handler> =>
    pick(await load());

export const hostTimeout: FlagSpec = {
  name: 'host-timeout',
  value: 'DURATION',
  help: 'a host silent this long is unreachable: no new machines or developer peers (20s..24h)',
  default: '60s',
};
