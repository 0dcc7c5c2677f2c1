// JSON schemas for API bodies, params and queries.
import { DNS_LABEL_PATTERN, METADATA_KEY_PATTERN, PEER_NAME_MAX, WG_KEY_PATTERN } from '../validate.js';

export const label = { type: 'string', pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: 63 } as const;
export const peerName = { type: 'string', pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: PEER_NAME_MAX } as const;
export const wgKey = { type: 'string', pattern: WG_KEY_PATTERN } as const;
export const machineId = { type: 'string', pattern: '^[0-9a-f]{14}$' } as const;
export const metaKey = { type: 'string', pattern: METADATA_KEY_PATTERN, maxLength: 63 } as const;
export const metaValue = { type: 'string', maxLength: 255, pattern: '^[\\x21-\\x7e]+$' } as const;
export const endpoint = { type: 'string', minLength: 3, maxLength: 261 } as const;

export const metadataObject = {
  type: 'object',
  maxProperties: 64,
  propertyNames: metaKey,
  additionalProperties: metaValue,
} as const;

export function body(properties: Record<string, unknown>, required: string[]): Record<string, unknown> {
  // OpenAPI 3.0 forbids an empty `required`.
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
}

export function params(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

export const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;
