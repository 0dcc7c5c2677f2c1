// placeholder until the agent lands
import { CliError } from '../cli/errors.js';
export async function agentCommand(_argv: string[]): Promise<number> { throw new CliError('sixpn agent is not yet available'); }
