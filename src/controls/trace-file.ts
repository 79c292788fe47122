import { parse } from 'csv-parse/sync';
import { ScenarioError } from '../engine/errors.js';
import { readTextFile, UnreadableFile } from '../scenario/read-text.js';

/** Larger trace files are refused: the whole text is read into one string. */
const MAX_TRACE_BYTES = 256 * 2 ** 20;

/** One up-interval of one traced node, in trace time units (seconds). */
export interface UpInterval { readonly node: number; readonly start: number; readonly end: number }

export interface AvailabilityTrace {
  /** Trace node names in order of first appearance; interval.node indexes this. */
  readonly nodes: readonly string[];
  readonly intervals: readonly UpInterval[];
}

/**
 * Reads an availability trace: Godfrey's `.avt` (one line per node: `id n s1 e1 ... sn en`)
 * or CSV (`node,up_start,up_end`, header optional). A file that cannot be read is an
 * error at `keyPath` (the scenario key naming it); a malformed line, or bytes that are
 * not UTF-8, an error naming `file:line`.
 */
export function readTrace(file: string, format: 'avt' | 'csv', keyPath: string): AvailabilityTrace {
  let text: string;
  try {
    text = readTextFile(file, MAX_TRACE_BYTES);
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    if (error.line !== undefined) throw new ScenarioError('', error.reason, file, error.line);
    throw new ScenarioError(keyPath, `trace ${file}: ${error.reason}`);
  }
  return format === 'avt' ? parseAvt(text, file) : parseCsv(text, file);
}

function fail(file: string, line: number, detail: string): never {
  throw new ScenarioError('', detail, `${file}:${line}`);
}

function number(file: string, line: number, text: string, what: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < 0) fail(file, line, `expected ${what} as a non-negative number, found ${JSON.stringify(text)}`);
  return value;
}

class Builder {
  readonly nodes: string[] = [];
  readonly intervals: UpInterval[] = [];
  private readonly index = new Map<string, number>();

  add(file: string, line: number, name: string, start: number, end: number): void {
    if (end < start) fail(file, line, `expected an interval end >= its start ${start}, found ${end}`);
    let node = this.index.get(name);
    if (node === undefined) {
      node = this.nodes.length;
      this.index.set(name, node);
      this.nodes.push(name);
    }
    this.intervals.push({ node, start, end });
  }
}

export function parseAvt(text: string, file: string): AvailabilityTrace {
  const trace = new Builder();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const fields = raw.trim().split(/\s+/).filter((f) => f !== '');
    if (fields.length === 0 || fields[0].startsWith('#')) return;
    if (fields.length < 2) fail(file, line, `expected "id n s1 e1 ... sn en", found ${JSON.stringify(raw.trim())}`);
    const n = number(file, line, fields[1], 'the interval count n');
    if (!Number.isInteger(n)) fail(file, line, `expected the interval count n as a whole number, found ${JSON.stringify(fields[1])}`);
    if (fields.length !== 2 + 2 * n) fail(file, line, `expected ${2 + 2 * n} fields for n = ${fields[1]} intervals, found ${fields.length}`);
    for (let k = 0; k < n; k++) {
      const start = number(file, line, fields[2 + 2 * k], `start ${k + 1}`);
      const end = number(file, line, fields[3 + 2 * k], `end ${k + 1}`);
      trace.add(file, line, fields[0], start, end);
    }
  });
  return trace;
}

export function parseCsv(text: string, file: string): AvailabilityTrace {
  const trace = new Builder();
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, comment: '#', info: true }) as unknown as typeof rows;
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    fail(file, line, `CSV syntax error: ${(error as Error).message.split('\n')[0]}`);
  }
  rows.forEach(({ record: row, info }, r) => {
    const line = info.lines;
    if (r === 0 && row[0] === 'node') return; // header
    if (row.length !== 3) fail(file, line, `expected 3 fields (node,up_start,up_end), found ${row.length}`);
    trace.add(file, line, row[0], number(file, line, row[1], 'up_start'), number(file, line, row[2], 'up_end'));
  });
  return trace;
}
