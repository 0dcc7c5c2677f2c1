// docs/api.md, rendered from the OpenAPI document the coordinator serves, so
// the reference cannot drift from the routes (a test compares the two).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.js';
import { SqliteBackend } from '../store/sqlite.js';
import { Store } from '../store/store.js';
import { buildCoordinator } from './app.js';

// A walk over an arbitrary JSON document: loosely typed on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = Record<string, any>;
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Schema[];
  requestBody?: Schema;
  responses: Record<string, Schema>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const refName = (ref: string): string => ref.replace('#/components/schemas/', '');

/** The spec of a coordinator built on a throw-away SQLite store. */
export async function coordinatorSpec(): Promise<Schema> {
  const dir = mkdtempSync(join(tmpdir(), 'sixpn-spec-'));
  const store = await Store.open(new SqliteBackend(join(dir, 'sixpn.db')));
  try {
    const { app } = await buildCoordinator({ store, logger: silentLogger });
    try {
      const res = await app.inject({ method: 'GET', url: '/openapi.json' });
      return JSON.parse(res.body) as Schema;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A compact type: `Machine`, `App[]`, `{name, org, network?}`, `string | null`. */
export function typeText(s: Schema | undefined, depth = 0): string {
  if (!s) return '';
  if (s.$ref) return refName(s.$ref);
  if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).map((x: Schema) => typeText(x, depth)).join(' | ');
  if (s.allOf) return s.allOf.map((x: Schema) => typeText(x, depth)).join(' & ');
  if (s.enum && s.enum.length === 1 && s.enum[0] === null) return 'null';
  if (Array.isArray(s.type)) return s.type.map((t: string) => (t === 'null' ? 'null' : typeText({ ...s, type: t }, depth))).join(' | ');
  const nullable = s.nullable ? ' | null' : '';
  if (s.type === 'array') {
    const item = typeText(s.items, depth);
    return `${item.includes(' ') ? `(${item})` : item}[]${nullable}`;
  }
  if (s.type === 'object' && s.properties) {
    const req = new Set<string>(s.required ?? []);
    const fields = Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => {
      const inner = depth < 1 && (v.$ref || v.type === 'array' || v.type === 'object' || v.oneOf || v.allOf) ? `: ${typeText(v, depth + 1)}` : '';
      return `${k}${req.has(k) ? '' : '?'}${inner}`;
    });
    return `{${fields.join(', ')}}${nullable}`;
  }
  if (s.type === 'object') return `object${nullable}`;
  if (s.enum) return s.enum.join(' | ');
  return `${s.type ?? 'any'}${nullable}`;
}

const cell = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function bodyText(o: Operation): string {
  const q = (o.parameters ?? []).filter((p) => p.in === 'query').map((p) => `?${p.name}${p.required ? '' : ' (optional)'}`);
  const b = o.requestBody?.content?.['application/json']?.schema as Schema | undefined;
  return [...q, ...(b ? [typeText(b)] : [])].join(' ');
}

function answerText(o: Operation): string {
  return Object.entries(o.responses)
    .filter(([code]) => /^[23]/.test(code))
    .map(([code, r]) => {
      const media = Object.entries((r.content ?? {}) as Record<string, Schema>);
      if (media.length === 0) return `${code} ${/^3/.test(code) ? r.description : 'no body'}`;
      const [type, m] = media[0]!;
      if (media.length === 1 && type === 'application/json') return `${code} ${typeText(m.schema)}`;
      return `${code} ${media.map(([t]) => t).join(', ')}: ${typeText(m.schema)}`;
    })
    .join('; ');
}

function schemaSection(name: string, s: Schema): string[] {
  const out = [`### ${name}`, '', s.description ?? '', ''];
  if (s.oneOf) {
    out.push('One of:', '');
    for (const v of s.oneOf as Schema[]) out.push(`- \`${v.properties?.type?.enum?.[0] ?? '?'}\`: \`${typeText(v)}\``);
    out.push('');
    return out;
  }
  out.push('| field | type | description |', '|---|---|---|');
  const req = new Set<string>(s.required ?? []);
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    out.push(`| ${k}${req.has(k) ? '' : '?'} | ${cell(typeText(v))} | ${cell(v.description ?? '')} |`);
  }
  out.push('');
  return out;
}

export function renderApiDocs(spec: Schema): string {
  const out = [
    `# ${spec.info.title}`,
    '',
    '<!-- Generated from GET /openapi.json by `npm run docs:api`: edit the route schemas, not this file. -->',
    '',
    spec.info.description,
    'Requests carry `Authorization: Bearer <token>` except where it says no token is needed.',
    `Tokens: ${spec.components.securitySchemes.bearer.description}`,
    'The machine API that every host serves to its own machines is in [machine-api.md](machine-api.md).',
    '',
    '## Operations',
    '',
  ];
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, Operation>>)) {
    for (const m of METHODS) {
      const o = item[m];
      if (!o) continue;
      const tag = o.tags?.[0] ?? 'other';
      const scopes = (o.description ?? '')
        .replace(/^Token scopes: /, '')
        .replace(/\.$/, '')
        .replace('No token needed', 'none');
      const row = `| ${m.toUpperCase()} | ${path} | ${cell(o.summary ?? '')} | ${cell(scopes)} | ${cell(bodyText(o))} | ${cell(answerText(o))} |`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  for (const [tag, rows] of byTag) {
    out.push(`### ${tag}`, '', '| method | path | what | scopes | body / query | answer |', '|---|---|---|---|---|---|', ...rows, '');
  }
  out.push('## Schemas', '');
  for (const [name, s] of Object.entries(spec.components.schemas as Record<string, Schema>)) out.push(...schemaSection(name, s));
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
