// JSON schemas for API bodies, params and queries, built from the input rules in validate.ts.
import { METADATA_MAX_KEYS, RULES, TTL_MAX_SECONDS } from '../validate.js';

export const label = RULES.label.schema;
export const region = RULES.region.schema;
export const peerName = RULES.peerName.schema;
export const wgKey = RULES.wgKey.schema;
export const machineId = RULES.machineId.schema;
export const metaKey = RULES.metadataKey.schema;
export const metaValue = RULES.metadataValue.schema;
export const endpoint = RULES.endpoint.schema;
/** A sixpn version as hosts report it, e.g. 0.1.0+1a2b3c4d5e6f */
export const versionString = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z.+-]+$' } as const;

export const metadataObject = {
  type: 'object',
  maxProperties: METADATA_MAX_KEYS,
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

/** A token's or an ephemeral peer's lifetime in seconds (the CLI's --ttl 90s, 10m, 24h, 30d). */
export const ttlSeconds = { type: 'integer', minimum: 1, maximum: TTL_MAX_SECONDS, description: 'lifetime in seconds; absent: no expiry' } as const;
