import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { ScenarioError } from '../engine/errors.js';
import { ensureFolder } from '../output/folder.js';
import { csvName } from '../output/manifest.js';
import { folderState, planFileName, readPlanFile, relativePath, type Plan, type PlannedRun } from './plan.js';

export const campaignName = 'campaign.json';

/** A run as campaign.json lists it. */
export interface CampaignRun extends Omit<PlannedRun, 'set' | 'folder' | 'engine' | 'cycles'> {
  /** completed, failed, interrupted, running (or killed: its manifest was never finished), or missing (no folder found). */
  readonly status: string;
  readonly error: string | null;
  /** Its folder, relative to the merged campaign's, or null when missing. */
  readonly folder: string | null;
}

export interface MergeResult {
  readonly csv: string;
  readonly campaign: string;
  readonly runs: readonly CampaignRun[];
  readonly rows: number;
}

/**
 * Merges the runs of one or more campaign folders (a sweep's, or its shards') into
 * OUT/metrics.csv and OUT/campaign.json. The CSV holds the rows of every completed
 * run, with a column per swept parameter, the replicate and the seed before the
 * cycle (or time), observer, metric and value; runs come in plan order (a point's
 * replicates together) and each run's rows in its own order, so the file is the
 * same whatever order the runs finished in and however they were sharded. The plan
 * is the first folder's, followed by any run only a later folder plans.
 *
 * The time column is the runs' own (`cycle`, or `time` in ms for the event engine)
 * when the plan has one engine. A plan that mixes engines gets `cycle` for every run,
 * an event run's time given in periods (see inPeriods), so that one column holds one
 * unit; every run's `unit` in campaign.json is then 1, as expectations read the rows.
 */
export function mergeCampaigns(dirs: readonly string[], out: string): MergeResult {
  if (dirs.length === 0) throw new ScenarioError('', 'name at least one campaign folder (pcsim merge <dir...>)', 'merge');
  const plans: { dir: string; plan: Plan }[] = dirs.map((dir) => {
    const plan = readPlanFile(dir);
    if (plan === undefined) throw new ScenarioError('', `holds no ${'plan.json'}: expected the folder of a campaign (pcsim sweep writes one)`, dir);
    return { dir, plan };
  });
  const first = plans[0].plan;
  const runs: PlannedRun[] = [];
  const seen = new Set<string>();
  const parameters = [...first.parameters];
  for (const { plan } of plans) {
    for (const key of plan.parameters) if (!parameters.includes(key)) parameters.push(key);
    for (const run of plan.runs) {
      if (seen.has(run.id)) continue;
      seen.add(run.id);
      runs.push(run);
    }
  }

  // Decided by the plan, not by which runs completed: a partial merge has the full one's column.
  const mixed = new Set(runs.map((run) => run.engine)).size > 1;

  ensureFolder(out);
  const csvPath = join(out, csvName);
  const temp = `${csvPath}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  const listed: CampaignRun[] = [];
  let rows = 0;
  let timeColumn: string | undefined = mixed ? 'cycle' : undefined;
  let headed = false;
  let written = false;
  try {
    const header = (at: string) => stringify([['scenario', ...parameters, 'replicate', 'seed', at, 'observer', 'metric', 'value']]);
    for (const run of runs) {
      const found = plans.map(({ dir }) => ({ dir, state: folderState(join(dir, run.folder), run.id) }));
      const completed = found.find(({ state }) => state.state === 'completed');
      const best = completed ?? found.find(({ state }) => state.status !== undefined) ?? found.find(({ state }) => state.state !== 'new');
      const { set: _set, folder, engine: _engine, cycles: _cycles, ...identity } = run;
      const status = best === undefined ? 'missing' : best.state.state === 'foreign' ? 'foreign' : best.state.status ?? 'running';
      listed.push({
        ...identity, ...(mixed ? { unit: 1 } : {}), index: listed.length, params: Object.fromEntries(parameters.map((key) => [key, run.params[key] ?? ''])),
        status, error: best?.state.error ?? null, folder: best ? relative(out, join(best.dir, folder)) || '.' : null,
      });
      if (!completed) continue;
      const csvFile = join(completed.dir, folder, csvName);
      const records = parse(readFileSync(csvFile), { relax_column_count: false }) as string[][];
      const [columns, ...body] = records;
      const at = columns.at(-4)!;
      timeColumn ??= at;
      if (!headed) writeSync(fd, header(timeColumn));
      headed = true;
      const toPeriods = mixed && at === 'time';
      if (at !== timeColumn && !toPeriods) {
        throw new ScenarioError('', `expected a ${timeColumn} column, as the campaign's other runs have, found ${JSON.stringify(at)}`, csvFile);
      }
      if (toPeriods && !(run.unit > 0)) {
        throw new ScenarioError('', `expected the period (unit) of event run ${run.id}, found ${JSON.stringify(run.unit)}`, join(plans[0].dir, planFileName));
      }
      const identifying = [...parameters.map((key) => run.params[key] ?? ''), String(run.replicate), String(run.seed)];
      const when = (row: string[], line: number) => (toPeriods ? inPeriods(row.at(-4)!, run.unit, csvFile, line) : row.at(-4)!);
      if (body.length > 0) writeSync(fd, stringify(body.map((row, i) => [row[0], ...identifying, when(row, i + 2), ...row.slice(-3)])));
      rows += body.length;
    }
    if (!headed) writeSync(fd, header(timeColumn ?? 'cycle'));
    written = true;
  } finally {
    closeSync(fd);
    // A run that cannot be merged leaves metrics.csv as it was, and no half-written file.
    if (!written) rmSync(temp, { force: true });
  }
  renameSync(temp, csvPath);

  const campaignPath = join(out, campaignName);
  const counts: Record<string, number> = {};
  for (const run of listed) counts[run.status] = (counts[run.status] ?? 0) + 1;
  const campaign = {
    name: first.name, experiment: relativePath(out, first.experiment), scenario: relativePath(out, first.scenario), set: first.set, replicates: first.replicates,
    quick: first.quick ?? false, parameters, expect: first.expect ?? {}, counts, runs: listed,
  };
  writeFileSync(`${campaignPath}.${process.pid}.tmp`, `${JSON.stringify(campaign, null, 2)}\n`);
  renameSync(`${campaignPath}.${process.pid}.tmp`, campaignPath);
  return { csv: csvPath, campaign: campaignPath, runs: listed, rows };
}

/**
 * An event run's time (ms) in periods: exact when it is a multiple of the period (a
 * whole number), else a decimal (the shortest that reads back as the quotient).
 */
export function inPeriods(time: string, period: number, file: string, line: number): string {
  const ms = time.trim() === '' ? NaN : Number(time);
  if (!Number.isFinite(ms)) throw new ScenarioError('', `expected a time in ms, found ${JSON.stringify(time)}`, file, line);
  return String(ms / period);
}
