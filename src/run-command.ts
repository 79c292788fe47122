import { ProgressDisplay } from './output/progress.js';
import { ScenarioError } from './engine/errors.js';
import { superviseRun, type SuperviseOptions, type Supervised } from './supervise.js';
import { exitCodeOf, handledSignals } from './supervise-protocol.js';
import { reportExpectations } from './expect/commands.js';

export interface RunCommandArgs {
  readonly scenario: string;
  readonly out?: string;
  readonly seed?: number;
  readonly set?: string[];
  /** Replace the run the output folder holds. */
  readonly force?: boolean;
  /** Write a checkpoint after every this many cycles (periods). */
  readonly checkpointEvery?: number;
  /** Seconds a cycle may still run after SIGINT/SIGTERM before the run is ended at once (default 10). */
  readonly grace?: number;
  readonly progress: boolean;
  /** Write the expectations' outcomes as JUnit XML to this file. */
  readonly junit?: string;
}

export interface ResumeCommandArgs {
  /** The run's folder. */
  readonly dir: string;
  /** Default: the run's own --checkpoint-every. */
  readonly checkpointEvery?: number;
  readonly grace?: number;
  readonly progress: boolean;
  readonly junit?: string;
}

export const defaultGraceSeconds = 10;
/** A day: far beyond any cycle worth waiting for, and within what a timer can hold (2^31 ms). */
const maxGraceSeconds = 86_400;

/**
 * `pcsim run`: runs a scenario (in a worker thread, see supervise.ts) with a progress
 * display on a terminal, and ends with one line on stderr saying how the run ended
 * and where its results are; then checks the scenario's expectations. Exit code: 0
 * completed, 1 failed, 2 bad input, 3 completed but an expectation failed, 128 + the
 * signal's number when interrupted (SIGINT 130, SIGTERM 143).
 */
export function runCommand(args: RunCommandArgs): Promise<void> {
  return supervisedCommand({
    task: { run: args.scenario }, out: args.out, force: args.force, seed: args.seed, set: args.set, checkpointEvery: args.checkpointEvery,
  }, args);
}

/** `pcsim resume`: continues a run from its checkpoint, as `pcsim run` runs one (same display, signals and exit codes). */
export function resumeCommand(args: ResumeCommandArgs): Promise<void> {
  return supervisedCommand({ task: { resume: args.dir }, checkpointEvery: args.checkpointEvery }, args);
}

async function supervisedCommand(task: Omit<SuperviseOptions, 'graceSeconds'>, args: { readonly grace?: number; readonly progress: boolean; readonly junit?: string }): Promise<void> {
  const grace = args.grace ?? defaultGraceSeconds;
  if (typeof grace !== 'number' || !(grace >= 0 && grace <= maxGraceSeconds)) {
    throw new ScenarioError('', `expected a number of seconds from 0 to ${maxGraceSeconds}, found ${args.grace}`, '--grace');
  }

  const display = args.progress && process.stderr.isTTY ? new ProgressDisplay(process.stderr) : undefined;
  // Until the display is stopped and the last line printed, a further signal must not
  // end the process by default (leaving the cursor hidden, line wrap off): superviseRun
  // handles signals until the run ends, this ignores them from then on.
  const ignore = () => {};
  for (const signal of handledSignals) process.on(signal, ignore);
  try {
    await runAndReport({ ...task, graceSeconds: grace }, display, args.junit);
  } finally {
    for (const signal of handledSignals) process.off(signal, ignore);
  }
}

async function runAndReport(options: SuperviseOptions, display: ProgressDisplay | undefined, junit?: string): Promise<void> {
  const outcome = await superviseRun(options, display && {
    onPhase: (event) => {
      if (event.phase === 'building') display.building(event.size, event.setup);
      else display.running(event.total, event.engine, () => event.progress().cycles, event.from);
    },
    onSignal: (signal, atOnce) => {
      if (signal === 'SIGHUP') display.abandon();
      else display.setNote(atOnce ? `${signal}: stopping now` : `${signal}: stopping after this cycle (again: at once)`);
    },
    onCheckpointing: (signal) => {
      if (signal !== 'SIGHUP') display.setNote(`${signal}: writing a checkpoint (again: stop at once)`);
    },
    onWarning: (message) => display.warn(`pcsim: warning: ${message}`),
  });
  display?.stop();
  report(outcome);
  // A run that ended (however) has a folder whose results can be checked; a failed or
  // interrupted one keeps its own exit code, and its JUnit file says it did not complete.
  if (outcome.kind === 'ended' && (outcome.status === 'completed' || junit !== undefined)) {
    const code = reportExpectations(outcome.dir, junit);
    if (outcome.status === 'completed') process.exitCode = code;
  }
  const signal = outcome.kind === 'cancelled' ? outcome.signal : outcome.kind === 'ended' && outcome.status === 'interrupted' ? outcome.interruptedBy : undefined;
  // Ending by the signal itself, where exiting normally cannot work: after SIGHUP Node
  // would try to restore the vanished terminal's settings, and abort; with the
  // simulation blocked in a system call, exit would wait for its thread forever.
  if (signal === 'SIGHUP' || (outcome.kind !== 'bad-input' && outcome.stuck)) {
    for (const name of handledSignals) process.removeAllListeners(name);
    process.kill(process.pid, signal ?? 'SIGKILL');
  }
}

const internalError = (stack: string) => `internal error (a bug in pcsim: please report it with this trace): ${stack}`;

function report(outcome: Supervised): void {
  const say = (line: string) => process.stderr.write(`pcsim: ${line}\n`);
  switch (outcome.kind) {
    case 'bad-input':
      throw new ScenarioError('', outcome.message);
    case 'cancelled':
      say(`interrupted by ${outcome.signal} before the run started; nothing was written`);
      process.exitCode = exitCodeOf(outcome.signal);
      return;
    case 'crashed': {
      const untouched = outcome.untouched ? `; nothing in ${outcome.untouched} was changed` : '';
      say(outcome.internal ? `${internalError(outcome.internal)}${untouched}` : `failed: ${outcome.message}${untouched}`);
      process.exitCode = 1;
      return;
    }
    case 'ended': {
      const unit = outcome.engine === 'event' ? 'period' : 'cycle';
      const cycles = `${outcome.cycles} ${unit}${outcome.cycles === 1 ? '' : 's'}`;
      const done = `${cycles} in ${outcome.wallSeconds.toFixed(1)} s; results in ${outcome.dir}`;
      const resumable = outcome.status !== 'completed' && outcome.checkpointCycle !== null
        ? `; to go on from ${unit} ${outcome.checkpointCycle}: pcsim resume ${outcome.dir}` : '';
      if (outcome.status === 'failed' && outcome.internal) say(`${internalError(outcome.internal)}\n(results in ${outcome.dir})`);
      else if (outcome.status === 'failed') say(`failed after ${cycles}: ${outcome.error}; results in ${outcome.dir}${resumable}`);
      else if (outcome.status === 'interrupted') say(`interrupted by ${outcome.interruptedBy}${outcome.error ? ` (${outcome.error})` : ''}: ${done}${resumable}`);
      else say(`${outcome.status}: ${done}`);
      process.exitCode = outcome.exitCode;
    }
  }
}
