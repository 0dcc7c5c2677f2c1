export * from './render.js';
export * from './apply.js';
