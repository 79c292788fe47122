import { closeSync, fsyncSync, ftruncateSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { writeFully } from './manifest.js';

/**
 * metrics.csv in long ("tidy") form: one row per (cycle, observer, metric), preceded
 * by columns that identify the run (scenario, seed, one column per --set override).
 * A cycle's rows reach the file only once the cycle is complete (`commit`), so the
 * file only ever holds whole cycles: a crash mid-cycle discards that cycle's rows, and
 * a failed write is cut back to the last whole cycle.
 */
export class MetricsCsv {
  private readonly runColumns: string[];
  /** Rows of the cycle under way. */
  private pending: (string | number)[][] = [];
  /** Length of the file: the header and every committed row. */
  private committedBytes = 0;

  /**
   * `fd` is a freshly created, empty file (see claimOutputFolder), or, with `continueAt`,
   * a file holding that many bytes of this run's rows already (a resumed run): rows are
   * then appended from there and no header is written. `at` names the column of when a
   * row was measured: `cycle`, or `time` (ms) in the event engine.
   */
  constructor(private readonly fd: number, run: Record<string, string | number>, at: 'cycle' | 'time' = 'cycle', continueAt?: number) {
    this.runColumns = Object.values(run).map(String);
    if (continueAt === undefined) this.append(MetricsCsv.header(run, at));
    else this.committedBytes = continueAt;
  }

  /** The header line of a run's metrics.csv. */
  static header(run: Record<string, string | number>, at: 'cycle' | 'time'): string {
    return stringify([[...Object.keys(run), at, 'observer', 'metric', 'value']]);
  }

  get bytes(): number {
    return this.committedBytes;
  }

  add(at: number, observer: string, metric: string, value: number): void {
    this.pending.push([...this.runColumns, at, observer, metric, value]);
  }

  /** The cycle under way is complete: writes its rows. */
  commit(): void {
    if (this.pending.length === 0) return;
    this.append(stringify(this.pending));
    this.pending = [];
  }

  /** Flushes the committed rows to disk: a checkpoint that counts them must not outlive them in a crash. */
  sync(): void {
    fsyncSync(this.fd);
  }

  /** Drops the rows of a cycle that did not complete. */
  discard(): void {
    this.pending = [];
  }

  /** Closes the file; rows not committed are dropped. */
  close(): void {
    this.pending = [];
    closeSync(this.fd);
  }

  private append(text: string): void {
    const data = Buffer.from(text);
    try {
      writeFully(this.fd, data, this.committedBytes);
    } catch (error) {
      // A partial write (a full disk) would leave half a cycle: cut it off.
      try { ftruncateSync(this.fd, this.committedBytes); } catch { /* the error below says what went wrong */ }
      throw error;
    }
    this.committedBytes += data.length;
  }
}
