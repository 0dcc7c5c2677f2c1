export { Agent, DEFAULT_DNS_PORT, DEFAULT_IFACE, DEFAULT_MTU, DEFAULT_WG_PORT, type AgentConfig, type ConvergeStats } from './agent.js';
export { computeDesired, type DesiredHost, type SelfConfig } from './desired.js';
export { startUpAgent, type UpAgent, type UpAgentOptions } from './up.js';
export { teardownHost } from './teardown.js';
