// placeholder until the DNS server lands
import { CliError } from '../cli/errors.js';
export async function dnsCommand(_argv: string[]): Promise<number> { throw new CliError('sixpn dns is not yet available'); }
