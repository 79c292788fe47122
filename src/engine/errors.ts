/**
 * Bad input: a scenario file, a key in it, or a command-line override. The CLI
 * prints it as one line (`file:line: key.path: message`) and exits with code 2.
 */
export class ScenarioError extends Error {
  constructor(
    /** Dotted key path inside the scenario (`protocols.cyclon.cache`), or '' for the file as a whole. */
    readonly keyPath: string,
    readonly detail: string,
    /** Where the problem is: the scenario file, or `--set` for an override. */
    public source?: string,
    public line?: number,
  ) {
    super(detail);
    this.name = 'ScenarioError';
    this.message = this.format();
  }

  /** Fills in the file (and line) if they were not known where the error was thrown. */
  locate(source: string, line?: number): this {
    this.source ??= source;
    this.line ??= line;
    this.message = this.format();
    return this;
  }

  private format(): string {
    const where = this.source ? `${this.source}${this.line ? `:${this.line}` : ''}: ` : '';
    return oneLine(`${where}${this.keyPath ? `${this.keyPath}: ` : ''}${this.detail}`);
  }
}

const escapes: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters and line separators (from keys and values in the input) escaped, so the message stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => escapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
