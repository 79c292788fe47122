import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ScenarioError } from '../engine/errors.js';
import { checkRunFolder } from '../expect/check-run.js';
import { describeBound, format, holds, readValue, reduce, type Outcome, type Row } from '../expect/expectations.js';
import type { LabelledSuite } from '../expect/commands.js';
import { manifestName, csvName } from '../output/manifest.js';
import { campaignExpectationsSchema, type CampaignExpectation } from './campaign-expectations.js';
import { settableText } from './experiment.js';
import { campaignName } from './merge.js';
import { planFileName } from './plan.js';

/*
 * Checking a campaign's expectations against its merged results: campaign.json (the
 * runs, their parameters and status, the expectations the plan recorded) and the
 * merged metrics.csv. Both are committed with an experiment's results (its runs'
 * folders are not), so a campaign can be checked again from a clean clone.
 */

/** A run of a campaign as its expectations see it. */
export interface RunResult {
  readonly index: number;
  /** Each swept parameter's value, as the merged CSV writes it. */
  readonly params: Readonly<Record<string, string>>;
  readonly replicate: number;
  readonly seed: number;
  readonly status: string;
  /** A cycle in the unit of the rows' `at`: 1, or the event engine's period (ms). */
  readonly unit: number;
  /** Its rows (at least those of the metrics the expectations read), in order. */
  readonly rows: readonly Row[];
}

/** Checks each expectation against the runs: each selected run reduced to one value, then the runs' values to one. */
export function checkCampaignExpectations(expect: Readonly<Record<string, CampaignExpectation>>, runs: readonly RunResult[]): Outcome[] {
  return Object.entries(expect).map(([name, e]) => checkOne(name, e, runs));
}

function checkOne(name: string, e: CampaignExpectation, runs: readonly RunResult[]): Outcome {
  const where = `${e.observer}/${e.metric}`;
  const point = Object.entries(e.point);
  const selected = runs.filter((run) => point.every(([key, value]) => sameValue(run.params[key], value)));
  const ofPoint = point.length > 0 ? ` of ${point.map(([key, value]) => `${key}=${settableText(value)}`).join(', ')}` : '';
  const nRuns = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  const runCount = `${nRuns(selected.length)}${ofPoint}`;
  const across = e.across === 'every' ? `in each of ${runCount}` : `${e.across} across ${runCount}`;
  const expected = `${where} ${describeReading(e)}, ${across} ${describeBound(e)}`;
  const fail = (found: string): Outcome => ({ name, passed: false, expected, found });
  if (selected.length === 0) {
    const taken = point.map(([key]) => `${key} = ${[...new Set(runs.map((run) => run.params[key]))].join(', ') || 'none'}`);
    return fail(runs.length === 0 ? 'no runs' : `no run${ofPoint} (the runs have ${taken.join('; ')})`);
  }
  const values: { run: RunResult; value: number }[] = [];
  const missing: string[] = [];
  for (const run of selected) {
    const series = run.rows.filter((r) => r.observer === e.observer && r.metric === e.metric);
    const read = series.length === 0 ? { missing: `no rows of ${where}` } : readValue(series, e, run.unit, where);
    if ('missing' in read) missing.push(`${read.missing} in ${describeRun(run)}${run.status === 'completed' ? '' : ` (status ${run.status})`}`);
    else values.push({ run, value: read.value });
  }
  if (missing.length > 0) return fail(`${missing[0]}${missing.length > 1 ? `, and in ${missing.length - 1} more of the ${selected.length} runs` : ''}`);
  const all = values.map((v) => v.value);
  const numbers = all.filter((v) => !Number.isNaN(v));
  const nan = all.length - numbers.length;
  const range = [numbers.length > 0 ? `${format(Math.min(...numbers))}..${format(Math.max(...numbers))}` : '', nan > 0 ? `${nan} NaN` : ''].filter(Boolean).join(', ');
  if (e.across === 'every') {
    const outside = values.filter((v) => !holds(e, v.value));
    if (outside.length === 0) return { name, passed: true, expected, found: `${nRuns(values.length)} within, ${range}` };
    return fail(`${format(outside[0].value)} in ${describeRun(outside[0].run)}; ${outside.length} of ${values.length} runs outside (runs ${range})`);
  }
  const value = reduce(all, e.across);
  return { name, passed: holds(e, value), expected, found: `${format(value)} (${values.length === 1 ? '1 run' : `runs ${range}`})` };
}

/** Whether a run's parameter (as the merged CSV writes it) is the value a point gives; numbers compare as numbers. */
function sameValue(param: string | undefined, wanted: number | string | boolean): boolean {
  if (param === undefined) return false;
  if (typeof wanted === 'number') return param.trim() !== '' && Number(param) === wanted;
  return param === settableText(wanted) || param === String(wanted);
}

function describeReading(e: CampaignExpectation): string {
  if (e.window) return `${e.of} over cycles ${e.window.from}..${e.window.to ?? 'end'}`;
  return e.at === undefined || e.at === 'last' ? 'at the last observation' : `at cycle ${e.at}`;
}

function describeRun(run: Pick<RunResult, 'index' | 'params' | 'replicate' | 'seed'>): string {
  return `run ${run.index} (${[...Object.entries(run.params).map(([key, value]) => `${key}=${value}`), `replicate ${run.replicate}`, `seed ${run.seed}`].join(', ')})`;
}

/** A run as campaign.json lists it (the fields read here). */
interface ListedRun {
  readonly index: number;
  readonly params: Readonly<Record<string, string>>;
  readonly replicate: number;
  readonly seed: number;
  readonly status: string;
  readonly folder: string | null;
  readonly unit?: number;
}

/** What a campaign folder's campaign.json says. */
export interface CampaignRecord {
  readonly name: string;
  readonly quick: boolean;
  readonly parameters: readonly string[];
  readonly expect: Readonly<Record<string, CampaignExpectation>>;
  readonly runs: readonly ListedRun[];
}

/** Whether a folder is a campaign's (it holds plan.json or campaign.json, and is not a run's). */
export function isCampaignFolder(dir: string): boolean {
  return !existsSync(join(dir, manifestName)) && (existsSync(join(dir, campaignName)) || existsSync(join(dir, planFileName)));
}

/** Reads DIR/campaign.json; a ScenarioError naming the file when it is missing or not a campaign's. */
export function readCampaignRecord(dir: string): CampaignRecord {
  const path = join(dir, campaignName);
  let record: any;
  try {
    record = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ScenarioError('', `no such file: the campaign's runs are not merged yet (pcsim merge ${dir})`, path);
    }
    throw new ScenarioError('', `cannot read it as a campaign's record (${(error as Error).message})`, path);
  }
  if (!record || !Array.isArray(record.runs) || !Array.isArray(record.parameters)) {
    throw new ScenarioError('', 'expected the record of a campaign (pcsim merge and sweep write it), found something else', path);
  }
  const expect = campaignExpectationsSchema.safeParse(record.expect ?? {});
  if (!expect.success) throw new ScenarioError(['expect', ...expect.error.issues[0].path.map(String)].join('.'), expect.error.issues[0].message, path);
  return { name: String(record.name ?? 'campaign'), quick: record.quick === true, parameters: record.parameters, expect: expect.data, runs: record.runs };
}

/**
 * The rows of a merged metrics.csv, by run (its parameters, replicate and seed joined),
 * keeping only the metrics `wanted` holds (`observer/metric`).
 */
function readMergedRows(file: string, parameters: readonly string[], wanted: ReadonlySet<string>): Map<string, Row[]> {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (error) {
    throw new ScenarioError('', `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, file);
  }
  const identifying = parameters.length + 2;
  const byRun = new Map<string, Row[]>();
  let header: string[] | undefined;
  const onRecord = (record: string[], { lines }: { lines: number }) => {
    if (header === undefined) {
      header = record;
      const expected = ['scenario', ...parameters, 'replicate', 'seed'];
      if (expected.some((column, i) => record[i] !== column) || record.length !== identifying + 5 || !['cycle', 'time'].includes(record[identifying + 1])) {
        throw new ScenarioError('', `expected the header of a merged campaign (${[...expected, 'cycle|time', 'observer', 'metric', 'value'].join(',')}), found ${JSON.stringify(record.join(','))}`, file, 1);
      }
      return null;
    }
    const [at, observer, metric, value] = record.slice(-4);
    if (!wanted.has(`${observer}/${metric}`)) return null;
    const row = { at: Number(at), observer, metric, value: value === 'NaN' ? NaN : Number(value) };
    if (at.trim() === '' || !Number.isFinite(row.at) || (Number.isNaN(row.value) && value !== 'NaN')) {
      throw new ScenarioError('', `expected a number in the columns ${header[identifying + 1]} and value, found ${JSON.stringify(record.join(','))}`, file, lines);
    }
    const key = record.slice(1, identifying + 1).join('\u0000');
    const rows = byRun.get(key);
    if (rows) rows.push(row);
    else byRun.set(key, [row]);
    return null;
  };
  try {
    parse(text, { relax_column_count: false, onRecord });
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    throw new ScenarioError('', `cannot read it as a merged campaign's metrics.csv (${(error as Error).message})`, file);
  }
  return byRun;
}

/** Checks a merged campaign's expectations (campaign.json and metrics.csv of DIR). */
export function checkMergedCampaign(dir: string, record: CampaignRecord = readCampaignRecord(dir)): Outcome[] {
  const entries = Object.values(record.expect);
  if (entries.length === 0) return [];
  const wanted = new Set(entries.map((e) => `${e.observer}/${e.metric}`));
  const byRun = readMergedRows(join(dir, csvName), record.parameters, wanted);
  const runs: RunResult[] = record.runs.map((run) => ({
    index: run.index, params: run.params, replicate: run.replicate, seed: run.seed, status: run.status, unit: run.unit ?? 1,
    rows: byRun.get([...record.parameters.map((key) => run.params[key] ?? ''), String(run.replicate), String(run.seed)].join('\u0000')) ?? [],
  }));
  return checkCampaignExpectations(record.expect, runs);
}

/**
 * The expectations of each completed run's own scenario, for the runs whose folder is
 * there (`folder` relative to DIR): one suite per run that states any.
 */
export function checkRunsOf(dir: string, runs: readonly (Pick<RunResult, 'index' | 'params' | 'replicate' | 'seed'> & { readonly folder: string | null })[]): (LabelledSuite & { readonly index: number })[] {
  const suites: (LabelledSuite & { index: number })[] = [];
  for (const run of runs) {
    if (run.folder === null || !existsSync(join(dir, run.folder, manifestName))) continue;
    const { outcomes } = checkRunFolder(join(dir, run.folder));
    if (outcomes.length > 0) suites.push({ index: run.index, name: describeRun(run), label: describeRun(run), outcomes });
  }
  return suites;
}

/**
 * Everything to check in a merged campaign folder: the campaign's expectations (a
 * suite named after it), then each completed run's own scenario expectations where
 * its folder is there.
 */
export function checkCampaignFolder(dir: string) {
  const record = readCampaignRecord(dir);
  const campaign = checkMergedCampaign(dir, record);
  const runs = checkRunsOf(dir, record.runs.filter((run) => run.status === 'completed'));
  return { record, campaign, runs, suiteName: `${record.name}${record.quick ? ' (quick)' : ''}` };
}

/** Writes the outcomes into DIR/campaign.json: the campaign's as `expectations` (after `counts`), each run's in its entry. */
export function recordOutcomes(dir: string, campaign: readonly Outcome[], runs: readonly { readonly index: number; readonly outcomes: readonly Outcome[] }[]): void {
  const path = join(dir, campaignName);
  const record = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & { runs: Record<string, unknown>[] };
  const byIndex = new Map(runs.map((run) => [run.index, run.outcomes]));
  const { runs: listed, ...head } = record;
  const updated = {
    ...head, expectations: campaign,
    runs: listed.map((run) => (byIndex.has(run.index as number) ? { ...run, expectations: byIndex.get(run.index as number) } : run)),
  };
  writeFileSync(`${path}.${process.pid}.tmp`, `${JSON.stringify(updated, null, 2)}\n`);
  renameSync(`${path}.${process.pid}.tmp`, path);
}
