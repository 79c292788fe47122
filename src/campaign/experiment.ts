import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { ScenarioError } from '../engine/errors.js';
import { describeIssue, describeValue, innermostIssue, keysAt } from '../scenario/describe-issue.js';
import { readTextFile, UnreadableFile } from '../scenario/read-text.js';
import { parseYaml, YamlProblem } from '../scenario/yaml-tree.js';
import { parseWhere, WhereProblem, type Condition } from './where.js';
import { campaignExpectationsSchema, type CampaignExpectation } from './campaign-expectations.js';
import { logAxes } from './plot.js';

/*
 * An experiment file names a scenario and the runs to make of it: every combination
 * of `grid` values, plus the explicit points of `runs`, minus the points `where`
 * rules out, each run `replicates` times with its own seed.
 */

/** A value a key may take: anything `--set` accepts (a number, a string, a boolean, a list or a mapping). */
const settable = z.union([z.number(), z.string(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

const plotSchema = z.strictObject({
  metric: z.string().min(1).describe('the metric to plot (`metric`, or `observer.metric` when several observers have it)'),
  x: z.string().min(1).default('cycle').describe('the column along the x axis: cycle (time in the event engine) or a swept parameter'),
  color: z.string().min(1).optional().describe('a swept parameter: one line per value'),
  facet: z.string().min(1).optional().describe('a swept parameter: one panel per value'),
  from: z.number().optional().describe('only rows from this cycle (time) on'),
  log: z.enum(logAxes).optional().describe('log-scale axes: x, y or both (xy); their values must be positive'),
  out: z.string().min(1).optional().describe('the SVG file, relative to the campaign folder (default <metric>.svg)'),
  title: z.string().optional(),
});

const experimentSchema = z.strictObject({
  scenario: z.string().min(1).describe('the scenario file, relative to this file'),
  name: z.string().min(1).optional().describe("the campaign's name; default: the file's base name"),
  replicates: z.number().int().min(1).max(100_000).default(1).describe('runs of each point, each with its own seed'),
  grid: z.record(z.string(), z.array(settable).min(1)).default({}).describe('key path -> values: every combination is a point'),
  runs: z.array(z.record(z.string(), settable)).default([]).describe('more points, each a mapping of key path -> value'),
  where: z.union([z.string(), z.array(z.string())]).default([]).describe('conditions every point must meet'),
  set: z.record(z.string(), settable).default({}).describe('key path -> value, applied to every run'),
  out: z.string().min(1).optional().describe("the campaign's folder, relative to the working folder; default results/<name>"),
  plots: z.array(plotSchema).default([]).describe('plots drawn at the end of a sweep'),
  expect: campaignExpectationsSchema,
  quick: z.strictObject({
    replicates: z.number().int().min(1).max(100_000).optional().describe('replicates in the quick version'),
    set: z.record(z.string(), settable).default({}).describe('key path -> value, applied after the file\'s set'),
    grid: z.record(z.string(), z.array(settable).min(1)).default({}).describe('grid keys whose values the quick version replaces'),
    expect: campaignExpectationsSchema.describe('expectations the quick version replaces (by name) or adds'),
  }).optional().describe('a smaller version of the campaign for regression checks: pcsim sweep --quick'),
});

export type PlotDeclaration = z.infer<typeof plotSchema>;

export interface Experiment {
  readonly file: string;
  /** The scenario file, resolved against the experiment file's folder. */
  readonly scenario: string;
  readonly name: string;
  readonly replicates: number;
  /** Key path -> values, in the file's order. */
  readonly grid: readonly (readonly [string, readonly unknown[]])[];
  readonly runs: readonly Readonly<Record<string, unknown>>[];
  /** Each condition, and its key path in the file. */
  readonly where: readonly { readonly text: string; readonly condition: Condition; readonly path: readonly string[] }[];
  readonly set: Readonly<Record<string, unknown>>;
  /** The campaign's folder (default results/<name>). */
  readonly out: string;
  readonly plots: readonly PlotDeclaration[];
  /** Named expectations on the campaign's merged results, checked at the end of a sweep. */
  readonly expect: Readonly<Record<string, CampaignExpectation>>;
  /** Where each expectation is written in the file: ['expect', name] or ['quick', 'expect', name]. */
  readonly expectPaths: Readonly<Record<string, readonly string[]>>;
  /** Whether this is the file's quick version (loadExperiment with quick: its values applied, out <out>-quick). */
  readonly quick: boolean;
  /** Line (1-based) of the key at a path of the file, or of its nearest ancestor there. */
  lineOf(path: readonly string[]): number | undefined;
}

/** Experiment files are a few KB: the same bound as scenario files. */
const MAX_EXPERIMENT_BYTES = 2 ** 20;

/**
 * Reads and checks an experiment file; any problem is a ScenarioError naming the file,
 * line and key path. With `quick`, the file's `quick:` block is applied (replicates, set
 * after the file's set, grid keys replaced, expectations replaced or added by name) and
 * the default folder is <out>-quick, so a quick check never writes into the full
 * campaign's results; a file without `quick:` is then an error.
 */
export function loadExperiment(file: string, options: { readonly quick?: boolean } = {}): Experiment {
  let text: string;
  try {
    text = readTextFile(file, MAX_EXPERIMENT_BYTES);
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    throw new ScenarioError('', error.reason, file, error.line);
  }
  let tree;
  try {
    tree = parseYaml(text);
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    throw new ScenarioError('', error.reason, file, error.line);
  }
  const raw = tree.value;
  const lineOf = (path: readonly string[]) => tree.lineOf(path);
  const fail = (path: readonly (string | number)[], detail: string): never => {
    const keys = path.map(String);
    throw new ScenarioError(keys.join('.'), detail, file, lineOf(keys));
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError('', `expected a mapping of experiment keys (scenario, grid, replicates...), found ${raw === null ? 'an empty document' : describeValue(raw)}`, file, 1);
  }
  const result = experimentSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const issues = result.error.issues;
    const issue = innermostIssue(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]);
    const path = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [])];
    const allowed = issue.code !== 'unrecognized_keys' ? undefined
      : issue.path.length === 0 ? Object.keys(experimentSchema.shape) : keysAt(experimentSchema, issue.path, raw);
    fail(path, describeIssue(issue, allowed));
  }
  const parsed = result.data!;
  for (const [key] of Object.entries(parsed.grid)) checkKeyPath(key, ['grid', key], fail);
  for (const [i, point] of parsed.runs.entries()) {
    if (Object.keys(point).length === 0) fail(['runs', i], 'expected a mapping of key path -> value, found an empty one');
    for (const key of Object.keys(point)) checkKeyPath(key, ['runs', String(i), key], fail);
  }
  for (const key of Object.keys(parsed.set)) checkKeyPath(key, ['set', key], fail);
  const whereList = typeof parsed.where === 'string' ? [parsed.where] : parsed.where;
  const where = whereList.map((text, i) => {
    const path = typeof parsed.where === 'string' ? ['where'] : ['where', String(i)];
    try {
      return { text, condition: parseWhere(text), path };
    } catch (error) {
      if (!(error instanceof WhereProblem)) throw error;
      return fail(path, error.message);
    }
  });
  const quick = options.quick ? parsed.quick : undefined;
  if (options.quick && quick === undefined) fail([], 'expected a quick: block (a smaller version of the campaign) for --quick, found none');
  if (quick) {
    for (const key of Object.keys(quick.set)) checkKeyPath(key, ['quick', 'set', key], fail);
    for (const key of Object.keys(quick.grid)) {
      if (!(key in parsed.grid)) fail(['quick', 'grid', key], `expected a key of the file's grid (${Object.keys(parsed.grid).join(', ') || 'none'}), found ${key}`);
    }
  }
  const expect = { ...parsed.expect, ...quick?.expect };
  const expectPaths = Object.fromEntries(Object.keys(expect).map((key) => [key, quick && key in quick.expect ? ['quick', 'expect', key] : ['expect', key]]));
  // A point selects runs by the values of swept parameters: any other key would select none, or all.
  const parameters = [...Object.keys(parsed.grid), ...parsed.runs.flatMap((point) => Object.keys(point))];
  for (const [key, e] of Object.entries(expect)) {
    for (const param of Object.keys(e.point)) {
      if (!parameters.includes(param)) {
        fail([...expectPaths[key], 'point', param], `expected a swept parameter (a key of grid or runs: ${[...new Set(parameters)].join(', ') || 'none'}), found ${param}`);
      }
    }
  }
  const name = parsed.name ?? basename(file, extname(file));
  const out = parsed.out ?? `results/${name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'campaign'}`;
  return {
    file,
    scenario: resolve(dirname(file), parsed.scenario),
    name,
    replicates: quick?.replicates ?? parsed.replicates,
    grid: Object.entries({ ...parsed.grid, ...quick?.grid }),
    runs: parsed.runs,
    where,
    set: { ...parsed.set, ...quick?.set },
    out: quick ? `${out}-quick` : out,
    plots: parsed.plots,
    expect,
    expectPaths,
    quick: quick !== undefined,
    lineOf,
  };
}

function checkKeyPath(key: string, path: readonly string[], fail: (path: readonly string[], detail: string) => never): void {
  if (key.split('.').some((part) => part === '')) fail(path, 'expected a key path of names separated by single dots');
}

/**
 * A value as `--set` text that reads back as the same value: a plain scalar as
 * written (`20`, `ring`), a string YAML would read as something else (`"true"`,
 * `"1e3"`) quoted, a list or mapping as JSON (a subset of YAML's flow style).
 */
export function settableText(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    let readBack: unknown;
    try {
      readBack = parseYaml(value).value;
    } catch {
      readBack = undefined;
    }
    return readBack === value && !/^\s|\s$|\n/.test(value) ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}
