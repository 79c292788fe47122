import { ScenarioError } from '../engine/errors.js';

/**
 * An output folder pcsim cannot use (a file, not writable, already holding a run, in
 * use by another pcsim...). It is bad input like a scenario error: one line, exit code
 * 2, nothing written.
 */
export class OutputFolderError extends ScenarioError {
  constructor(where: string, detail: string) {
    super('', detail, where);
    this.name = 'OutputFolderError';
  }
}

/** "ENOENT: no such file or directory" from a Node error, without the path Node appends. */
export function fsReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(', ')[0].split('\n')[0];
}
