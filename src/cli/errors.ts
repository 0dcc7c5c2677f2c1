/** Bad command line: exit 2 with a one-line message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command could not be carried out: exit 1 with a one-line message. */
export class CliError extends Error {
  override name = 'CliError';
}
