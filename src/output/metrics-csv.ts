import { closeSync, openSync, writeSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';

/**
 * metrics.csv in long ("tidy") form: one row per (cycle, observer, metric), preceded
 * by columns that identify the run (scenario, seed, one column per --set override).
 * Rows are written through to the file at the end of every cycle, so a crash or
 * Ctrl-C loses nothing already measured.
 */
export class MetricsCsv {
  private readonly fd: number;
  private readonly runColumns: string[];
  private pending: (string | number)[][] = [];

  /** `at` names the column of when a row was measured: `cycle`, or `time` (ms) in the event engine. */
  constructor(readonly path: string, run: Record<string, string | number>, at: 'cycle' | 'time' = 'cycle') {
    this.fd = openSync(path, 'w');
    this.runColumns = Object.values(run).map(String);
    writeSync(this.fd, stringify([[...Object.keys(run), at, 'observer', 'metric', 'value']]));
  }

  add(at: number, observer: string, metric: string, value: number): void {
    this.pending.push([...this.runColumns, at, observer, metric, value]);
  }

  /** Writes every pending row to the file. */
  flush(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, stringify(this.pending));
    this.pending = [];
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
