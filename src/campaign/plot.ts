import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ScenarioError } from '../engine/errors.js';
import { didYouMean } from '../engine/suggest.js';
import { ensureFolder } from '../output/folder.js';
import { csvName } from '../output/manifest.js';

export interface PlotOptions {
  /** `metric`, or `observer.metric` when several observers measure it. */
  readonly metric: string;
  /** The column along x: cycle (time in the event engine, by default), or a swept parameter. */
  readonly x?: string;
  /** A column: one line per value. */
  readonly color?: string;
  /** A column: one panel per value. */
  readonly facet?: string;
  /** Only rows at this cycle (time) or later. */
  readonly from?: number;
  /** Log-scale axes: x, y or both (xy). Their values must be positive (see logChecked). */
  readonly log?: string;
  readonly title?: string;
  /** The SVG file; default: <metric>.svg beside the CSV. The vega-lite spec goes beside it as <name>.vl.json. */
  readonly out?: string;
}

export interface PlotResult {
  readonly svg: string;
  readonly spec: string;
  readonly points: number;
}

export const logAxes = ['x', 'y', 'xy'] as const;
export type LogAxes = typeof logAxes[number];

/** Columns of a metrics.csv that say when or what was measured rather than which run. */
const measurementColumns = new Set(['cycle', 'time', 'observer', 'metric', 'value']);

/** The two-sided 95% quantile of Student's t for 1 to 30 degrees of freedom. */
const t975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table, then the Cornish-Fisher expansion around the normal quantile (within 1e-4 past 30). */
function tQuantile(df: number): number {
  if (df <= 30) return t975[df - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Mean and 95% confidence interval of the mean (Student's t); a single value has no interval. */
export function meanInterval(values: readonly number[]): { mean: number; lo: number; hi: number; n: number } {
  const n = values.length;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean, n };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  const half = tQuantile(n - 1) * Math.sqrt(variance / n);
  return { mean, lo: mean - half, hi: mean + half, n };
}

const rounded = (value: number) => Number(value.toPrecision(12));
const asNumber = (text: string) => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined);
/** Numbers in numeric order, then text. */
const byValue = (a: string, b: string) => {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) return x - y;
  if (x !== undefined) return -1;
  if (y !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * Summarises one metric of a metrics.csv (merged or a single run's) and draws it:
 * along x, the mean over replicates with its 95% confidence band. With x a swept
 * parameter rather than the cycle, each run first counts as the mean of its rows
 * (from `from` on). The vega-lite spec (its data inline) is saved beside the SVG; no
 * random draw or clock enters either, so the same input gives the same bytes.
 */
export async function plotMetric(input: string, options: PlotOptions): Promise<PlotResult> {
  const csvFile = lstatSync(input, { throwIfNoEntry: false })?.isDirectory() ? join(input, csvName) : input;
  let text: Buffer;
  try {
    text = readFileSync(csvFile);
  } catch (error) {
    throw new ScenarioError('', (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read it (${(error as NodeJS.ErrnoException).code})`, csvFile);
  }
  let records: string[][];
  try {
    records = parse(text) as string[][];
  } catch (error) {
    throw new ScenarioError('', `expected a metrics.csv, found a file that is not CSV (${(error as Error).message.split('\n')[0]})`, csvFile);
  }
  const [header = [], ...rows] = records;
  const column = (name: string) => header.indexOf(name);
  for (const needed of ['observer', 'metric', 'value']) {
    if (column(needed) < 0) throw new ScenarioError('', `expected a metrics.csv (pcsim run, sweep or merge writes one), found no "${needed}" column`, csvFile);
  }
  const time = column('cycle') >= 0 ? 'cycle' : 'time';
  const x = options.x === undefined || options.x === 'cycle' || options.x === 'time' ? time : options.x;
  const check = (name: string | undefined, option: string) => {
    if (name === undefined || column(name) >= 0) return;
    const choices = header.filter((h) => !['observer', 'metric', 'value'].includes(h));
    throw new ScenarioError('', `expected a column of ${csvFile} (${choices.join(', ')}), found ${JSON.stringify(name)}${didYouMean(name, choices)}`, option);
  };
  check(x, '--x');
  check(options.color, '--color');
  check(options.facet, '--facet');
  if (options.log !== undefined && !(logAxes as readonly string[]).includes(options.log)) {
    throw new ScenarioError('', `expected the axes to draw on a log scale (${logAxes.join(', ')}), found ${JSON.stringify(options.log)}`, '--log');
  }
  const log = options.log as LogAxes | undefined;

  const [observerAt, metricAt, valueAt, xAt, timeAt] = [column('observer'), column('metric'), column('value'), column(x), column(time)];
  const observers = new Map<string, Set<string>>();
  for (const row of rows) {
    const names = observers.get(row[metricAt]) ?? new Set<string>();
    names.add(row[observerAt]);
    observers.set(row[metricAt], names);
  }
  const wanted = pickMetric(options.metric, observers);
  const selected = rows.filter((row) => row[metricAt] === wanted.metric && row[observerAt] === wanted.observer
    && (options.from === undefined || (asNumber(row[timeAt]) ?? -Infinity) >= options.from));

  // A run is told by every column that is not a measurement's.
  const runColumns = header.map((name, i) => (measurementColumns.has(name) ? -1 : i)).filter((i) => i >= 0);
  const colorAt = options.color === undefined ? -1 : column(options.color);
  const facetAt = options.facet === undefined ? -1 : column(options.facet);
  const groupKey = (row: string[], xValue: string) => JSON.stringify([facetAt < 0 ? '' : row[facetAt], colorAt < 0 ? '' : row[colorAt], xValue]);
  const groups = new Map<string, number[]>();
  const add = (key: string, value: number) => {
    const values = groups.get(key) ?? [];
    values.push(value);
    groups.set(key, values);
  };
  if (x === time) {
    for (const row of selected) {
      const value = Number(row[valueAt]);
      if (Number.isFinite(value)) add(groupKey(row, row[xAt]), value);
    }
  } else {
    const perRun = new Map<string, { row: string[]; values: number[] }>();
    for (const row of selected) {
      const value = Number(row[valueAt]);
      if (!Number.isFinite(value)) continue;
      const run = JSON.stringify(runColumns.map((i) => row[i]));
      const entry = perRun.get(run) ?? { row, values: [] };
      entry.values.push(value);
      perRun.set(run, entry);
    }
    for (const { row, values } of perRun.values()) add(groupKey(row, row[xAt]), values.reduce((s, v) => s + v, 0) / values.length);
  }
  if (groups.size === 0) {
    throw new ScenarioError('', `no finite value of ${options.metric}${options.from === undefined ? '' : ` from ${time} ${options.from} on`} in ${csvFile}`, '--metric');
  }

  const keys = [...groups.keys()].map((key) => JSON.parse(key) as [string, string, string]);
  keys.sort((a, b) => byValue(a[0], b[0]) || byValue(a[1], b[1]) || byValue(a[2], b[2]));
  const numericX = keys.every(([, , xValue]) => asNumber(xValue) !== undefined);
  const values = keys.map(([facet, color, xValue]) => {
    const { mean, lo, hi, n } = meanInterval(groups.get(JSON.stringify([facet, color, xValue]))!);
    return {
      x: numericX ? Number(xValue) : xValue, mean: rounded(mean), lo: rounded(lo), hi: rounded(hi), n,
      ...(colorAt < 0 ? {} : { color: asNumber(color) ?? color }),
      ...(facetAt < 0 ? {} : { facet: asNumber(facet) ?? facet }),
    };
  });
  if (log !== undefined) logChecked(values, log, { x, numericX, color: options.color, facet: options.facet, time });
  const spec = vegaLiteSpec(values, { ...options, x, metricLabel: wanted.label, numericX, log });
  const svgFile = options.out ?? join(dirname(csvFile), `${wanted.label.replace(/[^A-Za-z0-9._-]/g, '_')}.svg`);
  const specFile = join(dirname(svgFile), `${basename(svgFile, extname(svgFile))}.vl.json`);
  const svg = await render(spec);
  ensureFolder(dirname(svgFile));
  writeAtomically(specFile, `${JSON.stringify(spec, null, 2)}\n`);
  writeAtomically(svgFile, `${svg}\n`);
  return { svg: svgFile, spec: specFile, points: values.length };
}

function pickMetric(name: string, observers: ReadonlyMap<string, ReadonlySet<string>>): { metric: string; observer: string; label: string } {
  const exact = observers.get(name);
  if (exact && exact.size === 1) return { metric: name, observer: [...exact][0], label: name };
  if (exact) {
    const names = [...exact].sort();
    throw new ScenarioError('', `expected one observer's metric, found ${JSON.stringify(name)} measured by ${names.join(', ')}: name one (say --metric ${names[0]}.${name})`, '--metric');
  }
  const dot = name.indexOf('.');
  if (dot > 0 && observers.get(name.slice(dot + 1))?.has(name.slice(0, dot))) {
    return { observer: name.slice(0, dot), metric: name.slice(dot + 1), label: name };
  }
  const known = [...observers.keys()].sort();
  throw new ScenarioError('', `expected a metric of the CSV (${known.join(', ')}), found ${JSON.stringify(name)}${didYouMean(name, known)}`, '--metric');
}

/**
 * A log axis takes positive values only: an x (on a log x axis) or a mean (on a log y
 * axis) that is zero or below is bad input, named in one line. A confidence band
 * reaching zero or below (a mean near zero, few replicates) is drawn down to the
 * axis' lower edge (see vegaLiteSpec); its data keeps its true lower end.
 */
function logChecked(
  values: readonly { x: number | string; mean: number; color?: unknown; facet?: unknown }[], log: LogAxes,
  at: { x: string; numericX: boolean; color?: string; facet?: string; time: string },
): void {
  const where = (v: (typeof values)[number]) => [`${at.x} ${v.x}`, ...(at.color === undefined ? [] : [`${at.color} ${v.color}`]), ...(at.facet === undefined ? [] : [`${at.facet} ${v.facet}`])].join(', ');
  const leaveOut = at.x === at.time ? ` (--from leaves out earlier ${at.time}s)` : '';
  if (log.includes('x')) {
    if (!at.numericX) {
      const text = values.find((v) => typeof v.x !== 'number')!;
      throw new ScenarioError('', `expected numbers along a log x axis, found ${at.x} ${JSON.stringify(text.x)}`, '--log');
    }
    const bad = values.find((v) => !((v.x as number) > 0));
    if (bad) throw new ScenarioError('', `expected positive values of ${at.x} along a log x axis, found ${bad.x}${leaveOut}`, '--log');
  }
  if (log.includes('y')) {
    const bad = values.find((v) => !(v.mean > 0));
    if (bad) throw new ScenarioError('', `expected positive means on a log y axis, found ${bad.mean} at ${where(bad)}${leaveOut}`, '--log');
  }
}

interface SpecOptions extends PlotOptions {
  readonly x: string;
  readonly metricLabel: string;
  readonly numericX: boolean;
  readonly log?: LogAxes;
}

/** Mean line over a 95% band; the data inline, under plain field names (key paths' dots would read as nesting). */
function vegaLiteSpec(values: readonly Record<string, unknown>[], options: SpecOptions): Record<string, unknown> {
  // Nominal: a hue of its own per value (an ordinal scale's shades of one hue are hard to tell apart).
  const color = options.color === undefined ? {} : { color: { field: 'color', type: 'nominal', title: options.color, legend: { titleLimit: 1000 } } };
  const logX = options.log?.includes('x') ?? false;
  const logY = options.log?.includes('y') ?? false;
  const x = { field: 'x', type: options.numericX ? 'quantitative' : 'ordinal', title: options.x, ...(logX ? { scale: { type: 'log' } } : {}) };
  const yTitle = `${options.metricLabel} (mean, 95% CI)`;
  // A log y axis cannot place a band's lower end at zero or below: it is clamped to the
  // lower edge of a domain spanning the positive values (the means, and the band ends above zero).
  const yScale = logY ? { scale: { type: 'log', domain: logDomain(values), nice: true, clamp: true } } : {};
  const band = logY
    ? { transform: [{ calculate: 'max(datum.lo, 0)', as: 'lo_drawn' }], encoding: { x, y: { field: 'lo_drawn', type: 'quantitative', title: yTitle, ...yScale }, y2: { field: 'hi' }, ...color } }
    : { encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, ...color } };
  const layer = [
    { mark: { type: 'area', opacity: 0.25 }, ...band },
    {
      mark: { type: 'line', point: values.length <= 60 },
      encoding: {
        x, y: { field: 'mean', type: 'quantitative', title: yTitle, ...yScale }, ...color,
        tooltip: [{ field: 'x', title: options.x }, { field: 'mean' }, { field: 'lo' }, { field: 'hi' }, { field: 'n' }],
      },
    },
  ];
  const title = options.title ?? options.metricLabel;
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, data: { values } };
  if (options.facet === undefined) return { ...base, width: 480, height: 300, layer };
  return {
    ...base,
    facet: { field: 'facet', type: 'ordinal', title: options.facet },
    columns: 3,
    spec: { width: 300, height: 200, layer },
  };
}

/** The smallest positive mean or band end, and the largest band end (log y needs every mean positive, so both are). */
function logDomain(values: readonly Record<string, unknown>[]): [number, number] {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) {
    for (const end of [v.mean as number, v.lo as number, v.hi as number]) {
      if (end > 0) [lo, hi] = [Math.min(lo, end), Math.max(hi, end)];
    }
  }
  return [lo, hi];
}

/** vega-lite -> vega -> SVG, headless (no canvas: text is measured by vega's estimate, the same everywhere). */
async function render(spec: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  // Nothing drawn here is random; a fixed source keeps it so whatever vega does inside.
  // (Exported by vega at run time; its typings leave them out.)
  const seeded = vega as unknown as { setRandom(random: () => number): void; randomLCG(seed: number): () => number };
  seeded.setRandom(seeded.randomLCG(1));
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0], { logger: quietLogger(vega) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function quietLogger(vega: typeof import('vega')) {
  return vega.logger(vega.Error);
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
