/** Any thrown value as one line for the user (a run that fails on something other than bad input). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] || error.name;
  return `a value that is not an Error was thrown: ${String(error)}`;
}
