// `sixpn dig NAME [TYPE] --org ORG`: the org's .internal through the API
// (no tunnel needed), printed like dig's answer section.
import { DIG_TYPES, type DigAnswer, type DigRecord } from '../../dns/dig.js';
import { client, json, need, str } from '../ctx.js';
import { UsageError } from '../errors.js';
import { label } from '../flags.js';
import { printJson } from '../output.js';
import type { Context } from '../spec.js';

const line = (r: DigRecord): string => `${r.name}\t${r.ttl}\tIN\t${r.type}\t${r.data}`;

export function format(a: DigAnswer): string {
  const out = [
    `;; ->>HEADER<<- status: ${a.status}, ANSWER: ${a.answers.length}, AUTHORITY: ${a.authority.length}`,
    '',
    ';; QUESTION SECTION:',
    `;${a.name}\t\tIN\t${a.type}`,
  ];
  if (a.answers.length) out.push('', ';; ANSWER SECTION:', ...a.answers.map(line));
  if (a.authority.length) out.push('', ';; AUTHORITY SECTION:', ...a.authority.map(line));
  return `${out.join('\n')}\n`;
}

export async function digCommand(ctx: Context): Promise<number> {
  const org = label(need(ctx.flags, 'org'), 'org');
  const name = ctx.args[0]!;
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(name)) throw new UsageError(`NAME ${JSON.stringify(name)} is not a DNS name`, { showUsage: true });
  const type = (ctx.args[1] ?? 'AAAA').toUpperCase();
  if (!(DIG_TYPES as readonly string[]).includes(type))
    throw new UsageError(`TYPE must be one of ${DIG_TYPES.join(', ')}, got ${JSON.stringify(ctx.args[1])}`, { showUsage: true });
  const network = str(ctx.flags, 'network');
  const a = await client(ctx).dig(org, { name, type, ...(network ? { network: label(network, 'network') } : {}) });
  if (json(ctx)) printJson(a);
  else process.stdout.write(format(a));
  return a.status === 'NOERROR' || a.status === 'NXDOMAIN' ? 0 : 1;
}
