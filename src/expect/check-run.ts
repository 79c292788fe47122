import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ScenarioError } from '../engine/errors.js';
import { csvName, manifestName } from '../output/manifest.js';
import { checkExpectations, expectationsSchema, type Outcome, type Row } from './expectations.js';
import { readRows } from './rows.js';

/** Exit code of a run or check whose expectations failed, and of a diff that found differences (bad input is 2). */
export const EXPECTATIONS_FAILED = 3;

/** A finished run's folder, as `check` and `diff` read it. */
interface RunFolder {
  readonly name: string;
  readonly status: string;
  readonly unit: number;
  readonly rows: Row[];
  readonly scenario: { readonly dir: string; readonly expect?: unknown; readonly name: string };
}

/** Reads DIR/manifest.json and (`withRows`) the whole cycles of DIR/metrics.csv; a ScenarioError naming the file on a missing or damaged one. */
export function readRunFolder(dir: string, withRows = true): RunFolder {
  const manifestPath = join(dir, manifestName);
  let manifest: any;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file: expected the folder of a pcsim run' : `cannot read it as a run's manifest (${(error as Error).message})`;
    throw new ScenarioError('', reason, manifestPath);
  }
  const scenario = manifest?.scenario;
  if (!scenario || typeof scenario !== 'object' || typeof manifest.status !== 'string') {
    throw new ScenarioError('', 'expected a pcsim manifest with a resolved scenario and a status, found none', manifestPath);
  }
  const rows = withRows ? readRowsOrThrow(join(dir, csvName), typeof manifest.csv_bytes === 'number' ? manifest.csv_bytes : undefined).rows : [];
  const unit = scenario.engine === 'event' ? Number(scenario.event?.period ?? 1000) : 1;
  return { name: String(scenario.name ?? 'run'), status: manifest.status, unit, rows, scenario };
}

/**
 * Checks a finished run's folder against the expectations its scenario states (as
 * recorded in its manifest), golden files resolved from the scenario's folder. A run
 * that did not complete fails a first expectation of its own, `completed`.
 */
export function checkRunFolder(dir: string): { suite: string; outcomes: Outcome[] } {
  const head = readRunFolder(dir, false);
  const parsed = expectationsSchema.safeParse(head.scenario.expect ?? {});
  if (!parsed.success) throw new ScenarioError('scenario.expect', parsed.error.issues[0].message, join(dir, manifestName));
  // A run with nothing to check is not read (its metrics.csv may be gigabytes).
  const folder = Object.keys(parsed.data).length > 0 ? readRunFolder(dir) : head;
  const golden = (path: string) => readRowsOrThrow(resolve(folder.scenario.dir, path)).rows;
  const outcomes = checkExpectations(parsed.data, folder.rows, folder.unit, golden);
  if (folder.status !== 'completed') {
    outcomes.unshift({ name: 'completed', passed: false, expected: 'a completed run', found: `status ${folder.status}` });
  }
  return { suite: folder.name, outcomes };
}

/** readRows, its problems as bad input (one line, exit 2). */
function readRowsOrThrow(file: string, bytes?: number): ReturnType<typeof readRows> {
  try {
    return readRows(file, bytes);
  } catch (error) {
    throw new ScenarioError('', (error as Error).message);
  }
}

/** One line per failed expectation: name, expected, found. */
export function describeFailures(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o) => !o.passed).map((o) => `expectation ${o.name} failed: expected ${o.expected}, found ${o.found}`);
}

export interface DiffLine {
  readonly metric: string;
  readonly rows: number;
  readonly differing: number;
  readonly maxDifference: number;
  readonly first: string;
}

/**
 * Compares two runs metric by metric (observer/metric), row by row on (cycle or time):
 * rows further apart than `tolerance` or `relative` × |a| (whichever allows more) differ, and rows in one run
 * only differ. Returns the metrics that differ, in the order they first appear.
 */
export function diffRuns(a: readonly Row[], b: readonly Row[], tolerance = 0, relative = 0): DiffLine[] {
  const key = (r: Row) => `${r.at}\u0000${r.observer}\u0000${r.metric}`;
  const inB = new Map(b.map((r) => [key(r), r]));
  const seen = new Set<string>();
  const byMetric = new Map<string, { rows: number; differing: number; maxDifference: number; first: string }>();
  const note = (r: Row, difference: number, what: string) => {
    const metric = `${r.observer}/${r.metric}`;
    const line = byMetric.get(metric) ?? { rows: 0, differing: 0, maxDifference: 0, first: '' };
    byMetric.set(metric, line);
    line.rows++;
    if (what === '') return;
    line.differing++;
    line.maxDifference = Math.max(line.maxDifference, difference);
    if (line.first === '') line.first = `${what} at ${r.at}`;
  };
  for (const r of a) {
    const k = key(r);
    seen.add(k);
    const other = inB.get(k);
    if (!other) { note(r, Infinity, 'only in the first run'); continue; }
    if (Number.isNaN(r.value) && Number.isNaN(other.value)) { note(r, 0, ''); continue; }
    const d = Math.abs(r.value - other.value);
    const same = r.value === other.value || d <= Math.max(tolerance, relative * Math.abs(r.value));
    note(r, Number.isNaN(d) ? Infinity : d, same ? '' : `${r.value} vs ${other.value}`);
  }
  for (const r of b) if (!seen.has(key(r))) note(r, Infinity, 'only in the second run');
  return [...byMetric].filter(([, l]) => l.differing > 0).map(([metric, l]) => ({ metric, ...l }));
}

