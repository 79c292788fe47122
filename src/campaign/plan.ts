import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { ScenarioError } from '../engine/errors.js';
import { checkpointName } from '../output/checkpoint.js';
import { ensureFolder } from '../output/folder.js';
import { manifestName } from '../output/manifest.js';
import { canonicalJson, runId, safeFolderName } from '../output/run-id.js';
import { loadScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import type { CampaignExpectation } from './campaign-expectations.js';
import { settableText, type Experiment } from './experiment.js';
import { holds, WhereProblem } from './where.js';

/** One run of a campaign: a point of the experiment and a replicate. */
export interface PlannedRun {
  /** Its position in the plan (what --index and --shard count). */
  readonly index: number;
  /** The run id (see output/run-id.ts): the hash of the resolved scenario, seed included. */
  readonly id: string;
  /** The point's position among the experiment's points (grid combinations, then `runs`). */
  readonly point: number;
  readonly replicate: number;
  readonly seed: number;
  /** Each swept parameter's value, as the merged CSV writes it. */
  readonly params: Readonly<Record<string, string>>;
  /** The run's `--set` overrides: the file's `set`, the point's values, the sweep's `--set`. */
  readonly set: readonly string[];
  /** Its folder, relative to the campaign's. */
  readonly folder: string;
  readonly engine: 'cycle' | 'event';
  readonly cycles: number;
  /** A cycle in the unit of its metrics.csv's first column: 1 (cycles), or the event engine's period (ms). */
  readonly unit: number;
}

export interface Plan {
  readonly name: string;
  /** The experiment and scenario files, absolute. */
  readonly experiment: string;
  readonly scenario: string;
  /** The sweep's own `--set`, applied to every run. */
  readonly set: readonly string[];
  readonly replicates: number;
  /** The swept key paths: the grid's, then any other a `runs` point sets, in order. */
  readonly parameters: readonly string[];
  readonly runs: readonly PlannedRun[];
  /** The campaign's expectations, as the experiment file resolves them (its quick version's, for --quick). */
  readonly expect: Readonly<Record<string, CampaignExpectation>>;
  /** Whether this is the experiment's quick version. */
  readonly quick: boolean;
}

/**
 * Replicate r's seed, from the point's seed and r alone: replicate 0 keeps the
 * scenario's seed (the run `pcsim run` makes), replicate r > 0 takes the first 8
 * hex digits of SHA-256("<seed>/replicate/<r>"). Every point of a campaign gets the
 * same seeds (common random numbers), and adding replicates or points never changes
 * an existing run's seed, nor so its id.
 */
export function replicateSeed(seed: number, replicate: number): number {
  if (replicate === 0) return seed;
  return Number.parseInt(createHash('sha256').update(`${seed}/replicate/${replicate}`).digest('hex').slice(0, 8), 16);
}

type Point = readonly (readonly [string, unknown])[];

/** Where a point's value for a key is written in the experiment file: the key path to name, and the path whose line to give. */
interface Written {
  readonly name: readonly string[];
  readonly line: readonly string[];
}

/** Every combination of the grid's values, the first key outermost, then the explicit points. */
function pointsOf(experiment: Experiment): { point: Point; at: (key: string) => Written | undefined }[] {
  type Entry = { point: Point; at: (key: string) => Written | undefined };
  let combos: Entry[] = [{ point: [], at: () => undefined }];
  for (const [key, values] of experiment.grid) {
    combos = combos.flatMap((combo): Entry[] => values.map((value, v) => ({
      point: [...combo.point, [key, value] as const],
      at: (k: string) => (k === key ? { name: ['grid', key], line: ['grid', key, String(v)] } : combo.at(k)),
    })));
  }
  // Explicit points alone, with no grid: only those (not also the scenario as it is).
  if (experiment.grid.length === 0 && experiment.runs.length > 0) combos = [];
  experiment.runs.forEach((run, i) => {
    combos.push({ point: Object.entries(run), at: (k) => ({ name: ['runs', String(i), k], line: ['runs', String(i), k] }) });
  });
  return combos;
}

/**
 * The value at a dotted key path as a scenario file writes it, in a resolved
 * scenario, if any: an instance's parameters (`protocols.cyclon.cache`) are resolved
 * under its `params`.
 */
function valueAt(scenario: unknown, path: string): unknown {
  const keys = path.split('.');
  const at = (keys: readonly string[]) => {
    let node: unknown = scenario;
    for (const key of keys) {
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  };
  const direct = at(keys);
  if (direct !== undefined || keys.length < 3 || !['protocols', 'controls', 'observers'].includes(keys[0])) return direct;
  return at([...keys.slice(0, 2), 'params', ...keys.slice(2)]);
}

const assignments = (entries: Iterable<readonly [string, unknown]>) => [...entries].map(([key, value]) => `${key}=${settableText(value)}`);

/**
 * Expands an experiment into its runs: each point (a grid combination or a `runs`
 * entry that `where` keeps) is loaded as `pcsim run` would load it, and run once per
 * replicate. Two points that resolve to the same scenario are one run. Bad input (in
 * the experiment, the scenario, a value a point gives it, `--set`) throws ScenarioError
 * naming the file and line where the value is written.
 */
export async function planCampaign(experiment: Experiment, options: { readonly set?: readonly string[] } = {}): Promise<Plan> {
  const cliSet = [...(options.set ?? [])];
  const fileSet = assignments(Object.entries(experiment.set));
  const registry = builtinRegistry();
  const cliKeys = cliSet.map((assignment) => assignment.slice(0, assignment.indexOf('=')));
  /** A problem with a value the experiment file gives, located where that value is written. */
  const inFile = (written: Written, key: string, error: ScenarioError) => {
    const deeper = error.keyPath.split('.').slice(key.split('.').length);
    return new ScenarioError([...written.name, ...deeper].join('.'), error.detail, experiment.file, experiment.lineOf(written.line));
  };
  const load = async (set: readonly string[], at: (key: string) => Written | undefined, point: string) => {
    try {
      return (await loadScenario(experiment.scenario, { set: [...fileSet, ...set, ...cliSet], registry })).scenario;
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      // The scenario file itself cannot be read (not found, a folder...): the experiment's `scenario` key says where it was named.
      if (error.source === experiment.scenario && error.keyPath === '' && error.line === undefined) {
        throw new ScenarioError('scenario', `${error.detail}: ${experiment.scenario}`, experiment.file, experiment.lineOf(['scenario']));
      }
      const under = (key: string) => error.keyPath === key || error.keyPath.startsWith(`${key}.`);
      // The sweep's own --set comes last, and wins: a problem under it is the command line's.
      if (error.source === '--set' && !cliKeys.some(under)) {
        const fromPoint = set.map((assignment) => assignment.slice(0, assignment.indexOf('='))).find(under);
        if (fromPoint !== undefined && at(fromPoint)) throw inFile(at(fromPoint)!, fromPoint, error);
        const fromFile = Object.keys(experiment.set).find(under);
        if (fromFile !== undefined) throw inFile({ name: ['set', fromFile], line: ['set', fromFile] }, fromFile, error);
      }
      if (error.source === experiment.scenario && point !== '') {
        throw new ScenarioError(error.keyPath, `${error.detail} (in the point ${point} of ${experiment.file})`, error.source, error.line);
      }
      throw error;
    }
  };
  const base = await load([], () => undefined, '');

  const parameters: string[] = experiment.grid.map(([key]) => key);
  for (const run of experiment.runs) for (const key of Object.keys(run)) if (!parameters.includes(key)) parameters.push(key);

  const runs: PlannedRun[] = [];
  const seen = new Set<string>();
  const observers = new Set<string>();
  for (const [p, { point, at }] of pointsOf(experiment).entries()) {
    const given = new Map(point);
    const kept = experiment.where.every(({ condition }, i) => {
      try {
        return holds(condition, (path) => (given.has(path) ? given.get(path) : valueAt(base, path)));
      } catch (error) {
        if (!(error instanceof WhereProblem)) throw error;
        const { path } = experiment.where[i];
        throw new ScenarioError(path.join('.'), `${error.message} (at the point ${assignments(point).join(', ')})`, experiment.file, experiment.lineOf(path));
      }
    });
    if (!kept) continue;
    const set = assignments(point);
    const scenario: Scenario = await load(set, at, set.join(', '));
    for (const name of Object.keys(scenario.observers)) observers.add(name);
    const params: Record<string, string> = {};
    for (const key of parameters) {
      const value = given.has(key) ? given.get(key) : valueAt(scenario, key);
      params[key] = value === undefined ? '' : typeof value === 'object' && value !== null ? canonicalJson(value) : settableText(value);
    }
    for (let replicate = 0; replicate < experiment.replicates; replicate++) {
      const seed = replicateSeed(scenario.seed, replicate);
      const resolved = { ...scenario, seed };
      const id = runId(resolved);
      if (seen.has(id)) continue;
      seen.add(id);
      runs.push({
        index: runs.length, id, point: p, replicate, seed, params, set: [...fileSet, ...set, ...cliSet],
        folder: join('runs', `${safeFolderName(scenario.name)}-seed${seed}-${id}`),
        engine: scenario.engine, cycles: scenario.cycles, unit: scenario.engine === 'event' ? scenario.event.period : 1,
      });
    }
  }
  for (const [name, e] of Object.entries(experiment.expect)) {
    if (runs.length > 0 && !observers.has(e.observer)) {
      const path = [...experiment.expectPaths[name], 'observer'];
      throw new ScenarioError(path.join('.'), `expected an observer of the scenario (${[...observers].join(', ') || 'none'}), found ${e.observer}`, experiment.file, experiment.lineOf(path));
    }
  }
  return {
    name: experiment.name, experiment: resolve(experiment.file), scenario: experiment.scenario, set: cliSet,
    replicates: experiment.replicates, parameters, runs, expect: experiment.expect, quick: experiment.quick,
  };
}

/** Which runs a sweep makes: all, one shard (`--shard i/n`: positions congruent to i mod n), or one run (`--index K`). */
export type Selection = { readonly shard: number; readonly shards: number } | { readonly index: number; readonly from: string } | undefined;

/** The runs a selection picks, in plan order. An index past the plan is bad input. */
export function selectRuns(plan: Plan, selection: Selection): readonly PlannedRun[] {
  if (selection === undefined) return plan.runs;
  if ('shards' in selection) return plan.runs.filter((run) => run.index % selection.shards === selection.shard);
  if (selection.index >= plan.runs.length) {
    throw new ScenarioError('', `expected a run index from 0 to ${plan.runs.length - 1} (the plan has ${plan.runs.length} runs), found ${selection.index}`, selection.from);
  }
  return [plan.runs[selection.index]];
}

/** `--shard i/n`, checked. */
export function parseShard(text: string): Selection {
  const match = /^(\d{1,9})\/(\d{1,9})$/.exec(text);
  const shard = Number(match?.[1]);
  const shards = Number(match?.[2]);
  if (!match || shards < 1 || shard >= shards) throw new ScenarioError('', `expected i/n with 0 <= i < n (say 0/4), found ${JSON.stringify(text)}`, '--shard');
  return { shard, shards };
}

/** A run index given by `--index` or read from a scheduler's variable (`from` names which, for messages). */
export function parseIndex(text: string, from: string): Selection {
  if (!/^\d{1,9}$/.test(text.trim())) throw new ScenarioError('', `expected a run index (0, 1, 2...), found ${JSON.stringify(text)}`, from);
  return { index: Number(text.trim()), from };
}

/** The variables array schedulers set in each task, in the order they are read. */
export const indexVariables = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'] as const;

/** The selection a sweep makes: --shard, else --index, else a scheduler's task index, else every run. */
export function selectionFrom(args: { readonly shard?: string; readonly index?: number }, env: NodeJS.ProcessEnv = process.env): Selection {
  if (args.shard !== undefined && args.index !== undefined) throw new ScenarioError('', 'expected --shard or --index, found both', '--index');
  if (args.shard !== undefined) return parseShard(args.shard);
  if (args.index !== undefined) return parseIndex(String(args.index), '--index');
  for (const name of indexVariables) {
    const value = env[name];
    if (value !== undefined && value !== '') return parseIndex(value, name);
  }
  return undefined;
}

/** Where a run's folder stands. */
export type RunState =
  /** A completed manifest with the run's id: nothing to do. */
  | 'completed'
  /** A run that did not finish, with a checkpoint: `pcsim resume` goes on from it. */
  | 'resumable'
  /** A run that did not finish and has no checkpoint (or a failed one): run again. */
  | 'unfinished'
  /** Nothing there yet. */
  | 'new'
  /** A manifest of another run, or not pcsim's: left alone. */
  | 'foreign';

export interface FolderState {
  readonly state: RunState;
  /** The manifest's status and error, when there is one. */
  readonly status?: string;
  readonly error?: string | null;
  readonly cyclesCompleted?: number;
}

/** Reads the folder of a run (its manifest, and whether it holds a checkpoint). */
export function folderState(dir: string, id: string): FolderState {
  const manifestPath = join(dir, manifestName);
  const stats = lstatSync(manifestPath, { throwIfNoEntry: false });
  if (!stats) return { state: lstatSync(dir, { throwIfNoEntry: false }) && lstatSync(join(dir, 'metrics.csv'), { throwIfNoEntry: false }) ? 'unfinished' : 'new' };
  let manifest: { run_id?: unknown; status?: unknown; error?: unknown; cycles_completed?: unknown };
  try {
    if (!stats.isFile() || stats.size > 1 << 22) return { state: 'foreign' };
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch {
    // Torn by a crash mid-write never happens (written by rename), so this is not pcsim's.
    return { state: 'foreign' };
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.run_id !== id) return { state: 'foreign' };
  const status = typeof manifest.status === 'string' ? manifest.status : undefined;
  const common = {
    status, error: typeof manifest.error === 'string' ? manifest.error : null,
    cyclesCompleted: typeof manifest.cycles_completed === 'number' ? manifest.cycles_completed : undefined,
  };
  if (status === 'completed') return { state: 'completed', ...common };
  const hasCheckpoint = lstatSync(join(dir, checkpointName), { throwIfNoEntry: false })?.isFile() === true;
  return { state: hasCheckpoint && status !== 'failed' ? 'resumable' : 'unfinished', ...common };
}

export const planFileName = 'plan.json';

/**
 * Writes the plan into the campaign's folder (atomically: shards may write the same plan
 * at once), with the experiment and scenario files relative to that folder, so that a
 * committed campaign names no path of the machine it ran on.
 */
export function writePlanFile(out: string, plan: Plan): void {
  ensureFolder(out);
  const path = join(out, planFileName);
  const temp = `${path}.${process.pid}.tmp`;
  const written = { ...plan, experiment: relativePath(out, plan.experiment), scenario: relativePath(out, plan.scenario) };
  writeFileSync(temp, `${JSON.stringify(written, null, 2)}\n`);
  renameSync(temp, path);
}

/** `file` relative to the folder `from`, with forward slashes (the same on every machine). */
export function relativePath(from: string, file: string): string {
  return relative(resolve(from), file).split(sep).join('/');
}

/** The plan a campaign folder holds; undefined when it holds none. */
export function readPlanFile(out: string): Plan | undefined {
  const path = join(out, planFileName);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ScenarioError('', `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, path);
  }
  try {
    const plan = JSON.parse(text) as Plan;
    if (!Array.isArray(plan.runs) || !Array.isArray(plan.parameters)) throw new Error('no runs');
    return { ...plan, experiment: resolve(out, plan.experiment), scenario: resolve(out, plan.scenario) };
  } catch {
    throw new ScenarioError('', 'expected the plan of a campaign (pcsim sweep writes it), found something else', path);
  }
}
