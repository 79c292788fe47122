import { join } from 'node:path';
import { constants } from 'node:os';
import { ScenarioError } from '../engine/errors.js';
import { checkCheckpointEvery } from '../output/checkpoint.js';
import { loadExperiment, type Experiment } from './experiment.js';
import { mergeCampaigns } from './merge.js';
import { folderState, planCampaign, selectionFrom, selectRuns, type Plan, type PlannedRun, type Selection } from './plan.js';
import { plotMetric, type PlotOptions } from './plot.js';
import { checkJobs, sweep, type RunOutcome } from './sweep.js';
import { checkCampaignFolder, checkRunsOf, recordOutcomes } from './check-campaign.js';
import { EXPECTATIONS_FAILED } from '../expect/check-run.js';
import { reportSuites } from '../expect/commands.js';
import type { Outcome } from '../expect/expectations.js';

/** The `pcsim plan`, `sweep`, `merge` and `plot` commands: what they print and their exit codes. */

export interface SelectArgs {
  readonly experiment: string;
  readonly set?: readonly string[];
  readonly out?: string;
  readonly shard?: string;
  readonly index?: number;
  /** The experiment's quick version. */
  readonly quick?: boolean;
}

const say = (line: string) => process.stderr.write(`pcsim: ${line}\n`);

async function planned(args: SelectArgs): Promise<{ experiment: Experiment; plan: Plan; out: string; selection: Selection; selected: readonly PlannedRun[] }> {
  const experiment = loadExperiment(args.experiment, { quick: args.quick });
  // Checked before the plan is made (which loads the scenario once per point).
  const selection = selectionFrom(args);
  const plan = await planCampaign(experiment, { set: args.set });
  return { experiment, plan, out: args.out ?? experiment.out, selection, selected: selectRuns(plan, selection) };
}

function describeSelection(selection: Selection, plan: Plan, selected: readonly PlannedRun[]): string {
  if (selection === undefined) return '';
  const which = 'shards' in selection ? `shard ${selection.shard}/${selection.shards}` : `run ${selection.index}${selection.from === '--index' ? '' : ` (--index from ${selection.from})`}`;
  return `; ${which}: ${selected.length} of the ${plan.runs.length} runs`;
}

/**
 * `pcsim plan`: the runs of a campaign as tab-separated lines (position, run id, each
 * swept parameter, replicate, seed, state of its folder, folder), those a --shard or
 * --index (or a scheduler's task index) selects; `--count`: only how many runs the plan has.
 */
export async function planCommand(args: SelectArgs & { readonly count?: boolean }): Promise<void> {
  const { plan, out, selection, selected } = await planned(args);
  if (args.count) {
    process.stdout.write(`${plan.runs.length}\n`);
    return;
  }
  const lines = [['index', 'id', ...plan.parameters, 'replicate', 'seed', 'state', 'folder'].join('\t')];
  for (const run of selected) {
    const folder = join(out, run.folder);
    lines.push([run.index, run.id, ...plan.parameters.map((key) => run.params[key]), run.replicate, run.seed, folderState(folder, run.id).state, folder].join('\t'));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const points = new Set(plan.runs.map((run) => run.point)).size;
  say(`${plan.runs.length} runs (${points} point${points === 1 ? '' : 's'} x ${plan.replicates} replicate${plan.replicates === 1 ? '' : 's'}) of ${plan.scenario}, in ${out}${describeSelection(selection, plan, selected)}`);
}

export interface SweepArgs extends SelectArgs {
  readonly jobs?: number;
  readonly checkpointEvery?: number;
  readonly progress: boolean;
  /** Write the expectations' outcomes as JUnit XML to this file. */
  readonly junit?: string;
}

const runLabel = (run: PlannedRun, parameters: readonly string[]) =>
  `run ${run.index} (${[run.id, ...parameters.map((key) => `${key}=${run.params[key]}`), `replicate ${run.replicate}`, `seed ${run.seed}`].join(', ')})`;

/**
 * `pcsim sweep`: makes the runs (see sweep.ts), then merges the campaign, draws its
 * plots and checks its expectations (the experiment's, and each run's own scenario's):
 * at once when the sweep made every run of the plan, or, for a shard, when every run
 * of the plan is complete (the last shard to end merges; the others check their own
 * runs' scenario expectations only). Exit code 0 when every selected run completed and
 * every expectation held; 1 when a run failed or a plot could not be drawn (whatever
 * the expectations); EXPECTATIONS_FAILED (3) when the runs completed but an expectation
 * failed; 128 + the signal's number when a signal stopped the sweep; 2 for bad input.
 */
export async function sweepCommand(args: SweepArgs): Promise<void> {
  checkJobs(args.jobs);
  checkCheckpointEvery(args.checkpointEvery);
  const { experiment, plan, out, selection, selected } = await planned(args);
  const { outcomes, signal } = await sweep(plan, selected, { out, jobs: args.jobs, checkpointEvery: args.checkpointEvery, progress: args.progress });
  const count = (kind: RunOutcome['kind']) => [...outcomes.values()].filter((outcome) => outcome.kind === kind).length;
  for (const run of selected) {
    const outcome = outcomes.get(run);
    if (outcome?.kind === 'failed' || outcome?.kind === 'interrupted') say(`${runLabel(run, plan.parameters)} ${outcome.kind}: ${outcome.message}`);
  }
  const notRun = selected.length - outcomes.size;
  const tally = [`${count('completed')} completed`, `${count('skipped')} already done`, `${count('failed')} failed`]
    .concat(count('interrupted') > 0 ? [`${count('interrupted')} interrupted`] : [], notRun > 0 ? [`${notRun} not started`] : []).join(', ');
  const head = `sweep of ${selected.length} run${selected.length === 1 ? '' : 's'}${describeSelection(selection, plan, selected)}: ${tally}`;
  if (signal !== undefined) {
    say(`${head}; stopped by ${signal}: the same command goes on from there (runs with a checkpoint resume from it)`);
    process.exitCode = 128 + constants.signals[signal];
    return;
  }
  const failed = count('failed') + count('interrupted') > 0;
  const exitCode = (unmet: number) => (failed ? 1 : unmet > 0 ? EXPECTATIONS_FAILED : 0);
  const everyRunDone = plan.runs.every((run) => folderState(join(out, run.folder), run.id).state === 'completed');
  if (selection !== undefined && !everyRunDone) {
    say(`${head}; results in ${out} (pcsim merge ${out} once every shard has run)`);
    const done = selected.filter((run) => ['completed', 'skipped'].includes(outcomes.get(run)?.kind ?? ''));
    process.exitCode = exitCode(reportSuites(checkRunsOf(out, done), args.junit).failed);
    return;
  }
  const merged = mergeCampaigns([out], out);
  let plotsFailed = false;
  const drawn: string[] = [];
  for (const [i, declared] of experiment.plots.entries()) {
    try {
      const { out: svg, ...rest } = declared;
      const result = await plotMetric(out, { ...rest, ...(svg === undefined ? {} : { out: join(out, svg) }) });
      drawn.push(result.svg);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      plotsFailed = true;
      say(`${experiment.file}:${experiment.lineOf(['plots', String(i)]) ?? 1}: plots.${i}: ${error.message}`);
    }
  }
  const plots = drawn.length > 0 ? `; plots ${drawn.join(', ')}` : '';
  say(`${head}; ${merged.rows} rows of ${merged.runs.filter((run) => run.status === 'completed').length} runs merged into ${merged.csv}${plots}`);
  const checked = checkCampaignFolder(out);
  if (checked.campaign.length > 0 || checked.runs.length > 0) recordOutcomes(out, checked.campaign, checked.runs);
  const { failed: unmet } = reportSuites([{ name: checked.suiteName, outcomes: checked.campaign }, ...checked.runs], args.junit);
  process.exitCode = plotsFailed ? 1 : exitCode(unmet);
}

/**
 * `pcsim check <campaign folder>`: a merged campaign's expectations, from its
 * campaign.json and metrics.csv, without running anything again (and each run's own
 * scenario expectations, where its folder is there). A run that did not complete fails
 * a first expectation of its own, `completed`. Exit code 0 or EXPECTATIONS_FAILED.
 */
export function checkCampaignCommand(args: { readonly dir: string; readonly junit?: string }): void {
  const checked = checkCampaignFolder(args.dir);
  const runs = checked.record.runs;
  const unfinished = runs.filter((run) => run.status !== 'completed');
  const completed: Outcome[] = unfinished.length === 0 ? [] : [{
    name: 'completed', passed: false, expected: 'every run completed',
    found: `${unfinished.length} of ${runs.length} runs not completed (run ${unfinished[0].index}: status ${unfinished[0].status})`,
  }];
  const { checked: count, failed } = reportSuites([{ name: checked.suiteName, outcomes: [...completed, ...checked.campaign] }, ...checked.runs], args.junit);
  if (count === 0) say(`${args.dir}: its experiment states no expectations`);
  process.exitCode = failed > 0 ? EXPECTATIONS_FAILED : 0;
}

/** `pcsim merge`: the campaign folders' runs into one metrics.csv and campaign.json (in --out, default the first folder). */
export function mergeCommand(args: { readonly dirs: readonly string[]; readonly out?: string }): void {
  const result = mergeCampaigns(args.dirs, args.out ?? args.dirs[0]);
  const counts = new Map<string, number>();
  for (const run of result.runs) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const tally = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  say(`merged ${result.runs.length} runs (${tally}): ${result.rows} rows in ${result.csv}; runs listed in ${result.campaign}`);
}

/** `pcsim plot`: one metric of a metrics.csv (or a campaign folder's) as an SVG and its vega-lite spec. */
export async function plotCommand(args: { readonly input: string; readonly metric?: string } & Omit<PlotOptions, 'metric'>): Promise<void> {
  if (args.metric === undefined) throw new ScenarioError('', 'expected the metric to plot (--metric M, or observer.metric)', '--metric');
  const result = await plotMetric(args.input, { ...args, metric: args.metric });
  say(`plot of ${args.metric} (${result.points} points) in ${result.svg}; its vega-lite spec in ${result.spec}`);
}
