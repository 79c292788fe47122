import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Row } from './expectations.js';

/**
 * The rows of a metrics.csv: its last four columns are when (`cycle`, or `time` in
 * ms), observer, metric and value; the columns before them name the run. With `bytes`,
 * only that many bytes are read. Throws an Error naming the file (and line) when it
 * cannot be read or is not one.
 */
export function readRows(file: string, bytes?: number): { at: 'cycle' | 'time'; rows: Row[] } {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (error) {
    throw new Error(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  // A run's manifest says how many bytes hold whole cycles: rows past them are of a cycle cut short.
  const records: string[][] = parse(bytes === undefined ? text : text.subarray(0, bytes), { relax_column_count: false });
  const header = records[0];
  const n = header?.length ?? 0;
  if (n < 4 || header[n - 3] !== 'observer' || header[n - 2] !== 'metric' || header[n - 1] !== 'value'
    || (header[n - 4] !== 'cycle' && header[n - 4] !== 'time')) {
    throw new Error(`${file}:1: expected a metrics.csv header ending in cycle|time,observer,metric,value, found ${JSON.stringify(header?.join(',') ?? '')}`);
  }
  const rows: Row[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i];
    const at = Number(r[n - 4]);
    const value = r[n - 1] === 'NaN' ? NaN : Number(r[n - 1]);
    if (!Number.isFinite(at) || (Number.isNaN(value) && r[n - 1] !== 'NaN')) {
      throw new Error(`${file}:${i + 1}: expected a number in columns ${header[n - 4]} and value, found ${JSON.stringify(r.join(','))}`);
    }
    rows.push({ at, observer: r[n - 3], metric: r[n - 2], value });
  }
  return { at: header[n - 4] as 'cycle' | 'time', rows };
}
