import { z } from 'zod';

/**
 * Expectations: what a scenario states must hold of its results, checked against the
 * rows of its metrics.csv (at the end of `pcsim run`, or later by `pcsim check`). Two
 * forms, each under a name of its own in the scenario's `expect:` mapping:
 * - a metric of an observer at one cycle (`at`, default the last observation), or over
 *   a window of cycles (every value in it, or their mean, minimum or maximum), bounded
 *   by `min` and/or `max`, or equal to `value` within an absolute `tolerance` and/or a
 *   `relative` one (a fraction of `value`);
 * - a golden file: every row of a metrics.csv committed earlier, matched by (cycle,
 *   observer, metric) with a tolerance (per metric if need be), and no row missing or extra.
 * Cycles are cycles in both engines: in the event engine cycle c is time c × period.
 */

const bound = z.number();
/** The fields of a metric expectation, in a scenario and in a campaign (which reduce a window differently). */
export const metricFields = {
  observer: z.string().min(1).describe('the observer, by its name in the scenario'),
  metric: z.string().min(1).describe('the metric, as written in metrics.csv'),
  at: z.union([z.number().min(0), z.literal('last')]).optional().describe('the cycle the value is read at; default: the last observation of that metric'),
  window: z.strictObject({
    from: z.number().min(0).default(0),
    to: z.number().min(0).optional().describe('default: the end of the run'),
  }).optional().describe('the observations in [from, to] instead of one'),
  min: bound.optional(),
  max: bound.optional(),
  value: bound.optional().describe('the expected value; with tolerance and/or relative'),
  tolerance: z.number().nonnegative().optional().describe('absolute: |found - value| <= tolerance'),
  relative: z.number().nonnegative().optional().describe('relative: |found - value| <= relative × |value|'),
};

interface Bounded { at?: unknown; window?: unknown; min?: number; max?: number; value?: number }
/** What both forms check: at or window, not both; one kind of bound. */
export function withBoundChecks<T extends z.ZodType<Bounded>>(schema: T) {
  return schema
    .refine((e) => !(e.at !== undefined && e.window), { message: 'expected either at or window, not both', path: ['window'] })
    .refine((e) => e.min !== undefined || e.max !== undefined || e.value !== undefined, { message: 'expected a bound: min, max or value', path: ['value'] })
    .refine((e) => e.value === undefined || (e.min === undefined && e.max === undefined), { message: 'expected value or min/max, not both', path: ['value'] });
}

const metricExpectation = withBoundChecks(z.strictObject({
  ...metricFields,
  of: z.enum(['every', 'mean', 'min', 'max']).default('every').describe('with window: every value must hold, or their mean, minimum or maximum'),
})).refine((e) => e.window !== undefined || e.of === 'every', { message: 'expected of only with window', path: ['of'] });

const tolerances = {
  tolerance: z.number().nonnegative().default(0).describe('absolute tolerance for every metric'),
  relative: z.number().nonnegative().default(0).describe('relative tolerance for every metric'),
};
const goldenExpectation = z.strictObject({
  golden: z.string().min(1).describe('a metrics.csv to match, relative to the scenario file'),
  ...tolerances,
  metrics: z.record(z.string(), z.strictObject({ tolerance: z.number().nonnegative().optional(), relative: z.number().nonnegative().optional() }))
    .default({}).describe('per-metric tolerances, by metric name'),
});

export const expectationSchema = z.union([goldenExpectation, metricExpectation]);
export const expectationsSchema = z.record(z.string(), expectationSchema).default({})
  .describe('named expectations checked at the end of the run: {observer, metric, at|window, of, min|max|value, tolerance, relative} or {golden, tolerance, relative, metrics}');
export type Expectation = z.infer<typeof expectationSchema>;
export type MetricExpectation = z.infer<typeof metricExpectation>;
export type GoldenExpectation = z.infer<typeof goldenExpectation>;

/** One row of metrics.csv: when (cycle, or ms in the event engine), observer, metric, value. */
export interface Row {
  readonly at: number;
  readonly observer: string;
  readonly metric: string;
  readonly value: number;
}

export interface Outcome {
  readonly name: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly found: string;
}

/**
 * Checks every expectation against `rows`. `unit` turns cycles into the rows' unit (1,
 * or the event engine's period); `golden(path)` gives the rows of a golden file.
 */
export function checkExpectations(
  expectations: Readonly<Record<string, Expectation>>, rows: readonly Row[], unit: number,
  golden: (path: string) => readonly Row[],
): Outcome[] {
  return Object.entries(expectations).map(([name, e]) => ('golden' in e
    ? checkGolden(name, e, rows, golden(e.golden))
    : checkMetric(name, e, rows, unit)));
}

function checkMetric(name: string, e: MetricExpectation, rows: readonly Row[], unit: number): Outcome {
  const series = rows.filter((r) => r.observer === e.observer && r.metric === e.metric);
  const where = `${e.observer}/${e.metric}`;
  const expected = `${where} ${describeWhen(e)} ${describeBound(e)}`;
  if (series.length === 0) return { name, passed: false, expected, found: `no rows of ${where}` };
  if (e.window && e.of === 'every') {
    const inside = inWindow(series, e.window, unit);
    if (inside.length === 0) return { name, passed: false, expected, found: `no rows of ${where} in the window` };
    const failing = inside.find((r) => !holds(e, r.value));
    return failing
      ? { name, passed: false, expected, found: `${format(failing.value)} at ${cycleOf(failing.at, unit)}` }
      : { name, passed: true, expected, found: `${inside.length} observations within` };
  }
  const read = readValue(series, { ...e, of: e.of === 'every' ? 'mean' : e.of }, unit, where);
  return 'missing' in read ? { name, passed: false, expected, found: read.missing } : { name, passed: holds(e, read.value), expected, found: read.found };
}

/** How one value is read from a metric's series: at a cycle (default: its last observation), or reduced over a window of cycles. */
export interface Reading {
  readonly at?: number | 'last';
  readonly window?: { readonly from: number; readonly to?: number };
  readonly of: 'mean' | 'min' | 'max';
}

/** A value read, with how it reads in a message; or why there is none. */
export type Read = { readonly value: number; readonly found: string } | { readonly missing: string };

/**
 * The value a reading takes of `series` (one observer's metric, in order; not empty).
 * `unit` turns cycles into the rows' unit; `where` names the metric in messages.
 */
export function readValue(series: readonly Row[], reading: Reading, unit: number, where: string): Read {
  if (reading.window) {
    const values = inWindow(series, reading.window, unit).map((r) => r.value);
    if (values.length === 0) return { missing: `no rows of ${where} in the window` };
    const v = reduce(values, reading.of);
    return { value: v, found: `${reading.of} ${format(v)} over ${values.length} observations` };
  }
  const { at } = reading;
  const row = at === undefined || at === 'last' ? series[series.length - 1] : series.find((r) => r.at === at * unit);
  if (!row) return { missing: `no row of ${where} at cycle ${at}` };
  return { value: row.value, found: `${format(row.value)} at ${cycleOf(row.at, unit)}` };
}

function inWindow(series: readonly Row[], window: { readonly from: number; readonly to?: number }, unit: number): Row[] {
  const from = window.from * unit;
  const to = window.to === undefined ? Infinity : window.to * unit;
  return series.filter((r) => r.at >= from && r.at <= to);
}

/** The mean, minimum or maximum of some values (NaN if any is NaN). */
export function reduce(values: readonly number[], how: 'mean' | 'min' | 'max'): number {
  return how === 'mean' ? values.reduce((s, x) => s + x, 0) / values.length
    : how === 'min' ? Math.min(...values) : Math.max(...values);
}

/** A bound on a value: min and/or max, or value with an absolute and/or relative tolerance. */
export interface Bound {
  readonly min?: number;
  readonly max?: number;
  readonly value?: number;
  readonly tolerance?: number;
  readonly relative?: number;
}

/** Whether x is within the bound (NaN never is). */
export function holds(e: Bound, x: number): boolean {
  if (Number.isNaN(x)) return false;
  if (e.value !== undefined) {
    const allowed = Math.max(e.tolerance ?? 0, (e.relative ?? 0) * Math.abs(e.value));
    return Math.abs(x - e.value) <= allowed;
  }
  return (e.min === undefined || x >= e.min) && (e.max === undefined || x <= e.max);
}

function checkGolden(name: string, e: GoldenExpectation, rows: readonly Row[], golden: readonly Row[]): Outcome {
  const expected = `the rows of ${e.golden}${e.tolerance || e.relative || Object.keys(e.metrics).length ? ' within tolerance' : ' exactly'}`;
  const key = (r: Row) => `${r.at}\u0000${r.observer}\u0000${r.metric}`;
  const found = new Map(rows.map((r) => [key(r), r]));
  const keys = new Set<string>();
  for (const g of golden) {
    keys.add(key(g));
    const r = found.get(key(g));
    const where = `${g.observer}/${g.metric} at ${g.at}`;
    if (!r) return { name, passed: false, expected, found: `no row ${where}` };
    const t = e.metrics[g.metric];
    const allowed = Math.max(t?.tolerance ?? e.tolerance, (t?.relative ?? e.relative) * Math.abs(g.value));
    const same = Number.isNaN(g.value) ? Number.isNaN(r.value) : Math.abs(r.value - g.value) <= allowed;
    if (!same) return { name, passed: false, expected, found: `${format(r.value)} for ${where} (golden ${format(g.value)})` };
  }
  const extra = rows.find((r) => !keys.has(key(r)));
  if (extra) return { name, passed: false, expected, found: `an extra row ${extra.observer}/${extra.metric} at ${extra.at}` };
  return { name, passed: true, expected, found: `${golden.length} rows match` };
}

function describeWhen(e: MetricExpectation): string {
  if (e.window) return `${e.of === 'every' ? 'every value' : `the ${e.of}`} over cycles ${e.window.from}..${e.window.to ?? 'end'}`;
  return e.at === undefined || e.at === 'last' ? 'at the last observation' : `at cycle ${e.at}`;
}

/** A bound as expected values read: `= 0.3 ± 5%`, `in [1, 2]`, `>= 1`. */
export function describeBound(e: Bound): string {
  if (e.value !== undefined) {
    const parts = [e.tolerance !== undefined ? `± ${e.tolerance}` : '', e.relative !== undefined ? `± ${e.relative * 100}%` : ''].filter(Boolean);
    return `= ${e.value}${parts.length ? ` ${parts.join(' or ')}` : ''}`;
  }
  if (e.min !== undefined && e.max !== undefined) return `in [${e.min}, ${e.max}]`;
  return e.min !== undefined ? `>= ${e.min}` : `<= ${e.max}`;
}

function cycleOf(at: number, unit: number): string {
  return unit === 1 ? `cycle ${at}` : `time ${at} ms`;
}

/** A number for messages: integers as they are, others to 6 significant digits. */
export function format(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, '');
}
