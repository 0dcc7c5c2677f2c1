export * from './keys.js';
export * from './dump.js';
export * from './diff.js';
export * from './cli.js';
export * from './device.js';
