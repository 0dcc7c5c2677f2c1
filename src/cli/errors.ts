/** Bad command line: exit 2 with a one-line message (and the command's usage when `showUsage`). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly showUsage: boolean;
  constructor(message: string, o: { showUsage?: boolean } = {}) {
    super(message);
    this.showUsage = o.showUsage ?? false;
  }
}

/** The command could not be carried out: exit 1 with a one-line message. */
export class CliError extends Error {
  override name = 'CliError';
}
