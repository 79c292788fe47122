import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioError } from '../engine/errors.js';
import { CampaignProgress } from './progress.js';
import { folderState, writePlanFile, type Plan, type PlannedRun, type RunState } from './plan.js';

/*
 * Each run of a sweep is a `pcsim run` (or `pcsim resume`) process of its own, at
 * most --jobs at a time, rather than a task on a pool of worker threads (piscina,
 * tinypool). A run needs what only a process gives: its memory and its crash are its
 * own (a run that runs out of memory, or a plug-in that corrupts global state or
 * leaves timers behind, takes no other run with it, and a reused worker would carry
 * a plug-in's module state into the next run); and it keeps everything `pcsim run`
 * guarantees, unchanged and tested once: the folder's lock, the manifest, signals
 * ending it after the current cycle with a checkpoint, --grace for a stuck cycle, its
 * exit code. Starting a process costs about half a second of CPU, nothing next to a
 * run worth sweeping. The sweep follows the runs through their manifests.
 */

export interface SweepOptions {
  /** The campaign's folder. */
  readonly out: string;
  /** Runs at once; default: the number of cores. */
  readonly jobs?: number;
  readonly checkpointEvery?: number;
  /** Show the campaign's progress (on a terminal stderr only). */
  readonly progress?: boolean;
  readonly stderr?: NodeJS.WriteStream;
}

export type RunOutcome =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'completed'; readonly resumed: boolean }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'interrupted'; readonly message: string };

export interface SweepResult {
  readonly outcomes: ReadonlyMap<PlannedRun, RunOutcome>;
  /** The signal that stopped the sweep, if one did. */
  readonly signal?: 'SIGINT' | 'SIGTERM' | 'SIGHUP';
}

const handled = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Handled = typeof handled[number];

/** The process a run is made in: pcsim's command line, from the build or (under tsx, as the tests run it) from the sources. */
function childEntry(): { path: string; execArgv: string[] } {
  const fromSources = import.meta.url.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(`./run-child.${fromSources ? 'ts' : 'js'}`, import.meta.url)),
    execArgv: fromSources ? ['--import', 'tsx'] : [],
  };
}

/** The checked value of --jobs. */
export function checkJobs(jobs: number | undefined): number {
  if (jobs === undefined) return availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new ScenarioError('', `expected a whole number of runs at once, at least 1, found ${jobs}`, '--jobs');
  return jobs;
}

/** What a run's process last said on stderr: its final line, without the `pcsim: ` prefix. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '');
  return (lines.at(-1) ?? '').replace(/^pcsim: /, '');
}

/**
 * Runs the selected runs of a plan: those whose folder holds their completed run are
 * skipped, those with a checkpoint resumed, the others run (again, replacing what an
 * unfinished run left). A run that fails is recorded and the others go on. The
 * first SIGINT, SIGTERM or SIGHUP starts no more runs and stops the running ones after
 * their current cycle, with a checkpoint; a second ends them at once.
 */
export async function sweep(plan: Plan, selected: readonly PlannedRun[], options: SweepOptions): Promise<SweepResult> {
  const jobs = checkJobs(options.jobs);
  const stderr = options.stderr ?? process.stderr;
  writePlanFile(options.out, plan);
  const outcomes = new Map<PlannedRun, RunOutcome>();
  const todo: { run: PlannedRun; state: RunState }[] = [];
  for (const run of selected) {
    const state = folderState(join(options.out, run.folder), run.id).state;
    if (state === 'completed') outcomes.set(run, { kind: 'skipped' });
    else if (state === 'foreign') outcomes.set(run, { kind: 'failed', message: `${join(options.out, run.folder)}: holds files of another run, left alone` });
    else todo.push({ run, state });
  }
  const display = options.progress !== false && stderr.isTTY ? new CampaignProgress(stderr, todo.length, selected.length - todo.length) : undefined;
  const running = new Map<ChildProcess, PlannedRun>();
  let signal: Handled | undefined;
  let signals = 0;
  const onSignal = (received: Handled) => {
    signal ??= received;
    signals++;
    display?.setNote(signals === 1 ? `${received}: stopping the runs after their current cycle (again: at once)` : `${received}: stopping now`);
    for (const child of running.keys()) {
      // A run ending meanwhile closes its channel: nothing to tell it then.
      if (child.connected) child.send({ type: 'signal', signal: received, count: signals }, () => {});
    }
  };
  for (const name of handled) process.on(name, onSignal);
  const entry = childEntry();
  try {
    let next = 0;
    await new Promise<void>((done) => {
      const launch = () => {
        while (signal === undefined && running.size < jobs && next < todo.length) {
          const { run, state } = todo[next++];
          const dir = resolve(options.out, run.folder);
          const every = options.checkpointEvery === undefined ? [] : ['--checkpoint-every', String(options.checkpointEvery)];
          const resumed = state === 'resumable';
          const args = resumed
            ? ['resume', dir, '--no-progress', ...every]
            : ['run', plan.scenario, '--seed', String(run.seed), ...run.set.flatMap((assignment) => ['--set', assignment]),
              '--out', dir, '--no-progress', ...(state === 'unfinished' ? ['--force'] : []), ...every];
          const child = fork(entry.path, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: entry.execArgv });
          let said = '';
          child.stderr!.setEncoding('utf8');
          child.stderr!.on('data', (text: string) => { said = (said + text).slice(-65_536); });
          // A process that cannot be started says so here; its 'close' still follows.
          child.on('error', (error) => { said += `\n${error.message}`; });
          running.set(child, run);
          display?.started(dir, run.cycles);
          child.on('close', (code, killedBy) => {
            running.delete(child);
            display?.ended(dir);
            outcomes.set(run, outcomeOf(code, killedBy, said, dir, run, resumed));
            display?.update(outcomes);
            if (running.size === 0 && (next >= todo.length || signal !== undefined)) done();
            else launch();
          });
        }
        if (running.size === 0) done();
      };
      launch();
    });
  } finally {
    for (const name of handled) process.off(name, onSignal);
    display?.stop();
  }
  return { outcomes, ...(signal ? { signal } : {}) };
}

function outcomeOf(code: number | null, killedBy: NodeJS.Signals | null, said: string, dir: string, run: PlannedRun, resumed: boolean): RunOutcome {
  const line = lastLine(said);
  // The manifest is what counts: a run that completed may still be ended by a signal as its process exits.
  const state = folderState(dir, run.id);
  if (state.state === 'completed') return { kind: 'completed', resumed };
  if (code === 0) return { kind: 'failed', message: `${dir}: the run ended but its manifest does not say it completed run ${run.id}` };
  const signalled = killedBy !== null || (code !== null && code > 128 && code - 128 in signalNames);
  if (signalled) return { kind: 'interrupted', message: line || `killed by ${killedBy ?? signalNames[code! - 128]}` };
  return { kind: 'failed', message: line || `exit code ${code}` };
}

const signalNames: Record<number, string> = Object.fromEntries(Object.entries(constants.signals).map(([name, number]) => [number, name]));
