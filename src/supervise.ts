import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describeError } from './engine/describe-error.js';
import { internalStack } from './engine/describe-error.js';
import { fsReason } from './output/folder.js';
import { releaseFolderLock } from './output/lock.js';
import { finishAbandonedRun, type Manifest, type RunStatus } from './output/manifest.js';
import type { SetupProgress } from './run.js';
import {
  exitCodeOf, handledSignals, Phase, readProgress, sharedState, Slot,
  type Committed, type HandledSignal, type WorkerInput, type WorkerMessage,
} from './supervise-protocol.js';

/*
 * `pcsim run` and `pcsim resume` simulate in a worker thread, so that the main thread
 * stays free to answer signals even when a cycle never ends (a plug-in stuck in a
 * loop). The first SIGINT, SIGTERM or SIGHUP asks the worker to stop after the current
 * cycle and write a checkpoint; a second one, or a cycle still running `graceSeconds`
 * after the first, ends the worker at once (V8 can stop any JavaScript loop), and the
 * main thread then writes the manifest itself from the progress the worker last
 * published, and gives back the folder's lock. Writing a checkpoint (the final one,
 * or a periodic one under way when the signal comes) is not part of the grace period.
 */

export interface SuperviseOptions {
  /** Run a scenario file, or resume the run in a folder. */
  readonly task: WorkerInput['task'];
  readonly out?: string;
  readonly force?: boolean;
  readonly seed?: number;
  readonly set?: readonly string[];
  readonly checkpointEvery?: number;
  readonly graceSeconds: number;
}

/** The worker's report of how far the build got (see SimulationOptions.onSetup), at most every 200 ms. */
export interface SetupMessage extends SetupProgress {
  readonly type: 'setup';
}

export interface PhaseEvent {
  readonly phase: 'building' | 'running';
  readonly dir: string;
  readonly size: number;
  readonly total: number;
  /** The cycle the run (re)started from. */
  readonly from: number;
  readonly engine: 'cycle' | 'event';
  /** Progress as the worker last published it (cheap: reads shared memory). */
  readonly progress: () => Committed;
  /** While building: the step of the build under way, as last reported (undefined before the first report). */
  readonly setup: () => SetupProgress | undefined;
}

export interface SuperviseHooks {
  readonly onPhase?: (event: PhaseEvent) => void;
  /** A signal arrived; `atOnce` when it ends the run now rather than after the cycle. */
  readonly onSignal?: (signal: HandledSignal, atOnce: boolean) => void;
  /** The run stopped after a cycle and is writing its checkpoint. */
  readonly onCheckpointing?: (signal: HandledSignal, cycle: number) => void;
  /** Something the run goes on after (a periodic checkpoint that could not be written); default: a line on stderr. */
  readonly onWarning?: (message: string) => void;
}

export type Supervised =
  /** Bad input (exit 2); `dir` when found while building, after the folder was claimed (its manifest says failed). */
  | { readonly kind: 'bad-input'; readonly message: string; readonly dir?: string }
  /** A signal before the output folder was claimed: nothing was written. */
  | { readonly kind: 'cancelled'; readonly signal: HandledSignal; readonly stuck: boolean }
  /**
   * The run failed before it changed its output folder; `internal`: the stack of a bug
   * in pcsim; `untouched`: the folder of a resume that failed as it was set up, left as it was.
   */
  | { readonly kind: 'crashed'; readonly message: string; readonly internal?: string; readonly stuck: boolean; readonly untouched?: string }
  | {
    readonly kind: 'ended';
    readonly dir: string;
    readonly engine: 'cycle' | 'event';
    readonly status: RunStatus;
    readonly cycles: number;
    readonly wallSeconds: number;
    readonly interruptedBy: string | null;
    readonly error: string | null;
    readonly exitCode: number;
    /** The stack of the error that failed the run, when it is a bug in pcsim. */
    readonly internal?: string;
    /** The worker did not stop when told (blocked in a system call): the process cannot exit normally. */
    readonly stuck: boolean;
    /** The cycle (period) of the run's checkpoint, if it has one to resume from. */
    readonly checkpointCycle: number | null;
  };

/** How long a terminated worker may take to stop before the process is ended without it (stuck). */
const terminateTimeoutMs = 1000;

export function superviseRun(options: SuperviseOptions, hooks: SuperviseHooks = {}): Promise<Supervised> {
  const shared = sharedState();
  const nonce = randomUUID();
  const input: WorkerInput = {
    task: options.task, out: options.out, force: options.force, seed: options.seed, set: options.set,
    checkpointEvery: options.checkpointEvery, nonce, flags: shared.flags, numbers: shared.numbers,
  };
  const worker = new Worker(new URL('./run-worker.js', import.meta.url), { workerData: input });

  return new Promise((settle) => {
    let phase: 'loading' | 'building' | 'running' = 'loading';
    let dir: string | undefined;
    /** The worker has written its manifest in `dir` (a resume does so only once its state is restored). */
    let claimed = false;
    let engine: 'cycle' | 'event' = 'cycle';
    let firstSignal: HandledSignal | undefined;
    let cancelled = false;
    /** Why the worker was terminated, once it was. */
    let killedBecause: string | undefined;
    let report: WorkerMessage | undefined;
    let crash: unknown;
    let graceTimer: NodeJS.Timeout | undefined;
    /** What is left of the grace period, once a signal started it; and since when it has been running. */
    let graceLeftMs: number | undefined;
    let graceSince = 0;
    let stuckTimer: NodeJS.Timeout | undefined;
    let finished = false;
    /** The worker is writing a checkpoint; `finalCheckpoint`: the one of a run that stops. */
    let checkpointing = false;
    let finalCheckpoint = false;
    let setup: SetupProgress | undefined;
    const unit = () => (engine === 'event' ? 'period' : 'cycle');

    /** Runs the grace period (what is left of it), unless a checkpoint is being written. */
    const runGrace = () => {
      if (graceLeftMs === undefined || checkpointing || finalCheckpoint || graceTimer !== undefined) return;
      graceSince = performance.now();
      graceTimer = setTimeout(() => terminate(`killed: the ${unit()} did not end within ${options.graceSeconds} s of ${firstSignal}`), graceLeftMs);
    };
    const pauseGrace = () => {
      if (graceTimer === undefined) return;
      clearTimeout(graceTimer);
      graceTimer = undefined;
      graceLeftMs = Math.max(0, graceLeftMs! - (performance.now() - graceSince));
    };

    const endWorker = () => {
      void worker.terminate();
      stuckTimer ??= setTimeout(() => finish(true), terminateTimeoutMs);
    };
    const terminate = (reason: string) => {
      if (killedBecause !== undefined || finished) return;
      killedBecause = reason;
      clearTimeout(graceTimer);
      endWorker();
    };

    const onSignal = (signal: HandledSignal) => {
      if (finished || killedBecause !== undefined) return;
      const first = firstSignal === undefined;
      if (!first) {
        hooks.onSignal?.(signal, true);
        terminate(checkpointing
          ? `killed: a second signal (${signal}) came while the checkpoint was written`
          : `killed: a second signal (${signal}) came before the ${unit()} ended`);
        return;
      }
      firstSignal = signal;
      Atomics.store(shared.flags, Slot.signal, constants.signals[signal]);
      const atOnce = phase !== 'running' || options.graceSeconds === 0;
      hooks.onSignal?.(signal, atOnce);
      if (Atomics.compareExchange(shared.flags, Slot.phase, Phase.loading, Phase.cancelled) === Phase.loading) {
        cancelled = true;
        terminate('cancelled');
      } else if (phase === 'building') {
        terminate(`killed: ${signal} came during setup, before the first cycle`);
      } else if (phase === 'running') {
        graceLeftMs = options.graceSeconds * 1000;
        runGrace();
      }
      // Otherwise the worker is claiming its folder: decided when it says it is building.
    };
    for (const signal of handledSignals) process.on(signal, onSignal);

    worker.on('message', (message: WorkerMessage | SetupMessage) => {
      if (message.type === 'setup') {
        setup = { step: message.step, done: message.done, total: message.total };
        return;
      }
      if (message.type === 'checkpointing') {
        // The grace period is for a cycle, not for writing a checkpoint; a second signal still ends the run at once.
        pauseGrace();
        checkpointing = true;
        finalCheckpoint ||= message.final;
        if (message.final && firstSignal !== undefined && killedBecause === undefined) hooks.onCheckpointing?.(firstSignal, message.cycle);
        return;
      }
      if (message.type === 'checkpointed') {
        // After the final one the run only finishes its manifest: a second signal still comes "while the checkpoint was written".
        checkpointing = message.final;
        runGrace();
        return;
      }
      if (message.type === 'warning') {
        if (hooks.onWarning) hooks.onWarning(message.message);
        else process.stderr.write(`pcsim: warning: ${message.message}\n`);
        return;
      }
      if (message.type !== 'phase') {
        report = message;
        // Its work is done: a timer or socket a plug-in left open must not keep it (and the process) alive.
        endWorker();
        return;
      }
      ({ phase, dir, engine } = message);
      claimed ||= phase === 'running' || !('resume' in options.task);
      hooks.onPhase?.({ ...message, progress: () => readProgress(shared), setup: () => setup });
      if (firstSignal !== undefined && phase === 'building') terminate(`killed: ${firstSignal} came during setup, before the first cycle`);
    });
    worker.on('error', (error) => { crash = error; });
    worker.on('exit', () => finish(false));

    function finish(stuck: boolean): void {
      if (finished) return;
      finished = true;
      clearTimeout(graceTimer);
      clearTimeout(stuckTimer);
      for (const signal of handledSignals) process.off(signal, onSignal);
      const result = outcome(stuck);
      // The worker gives its lock back as it ends; one it was stopped before could not.
      const locked = 'resume' in options.task ? options.task.resume : dir;
      if (locked !== undefined) {
        try { releaseFolderLock(locked, nonce); } catch { /* a lock left behind is stale once this process ends */ }
      }
      settle(result);
    }

    function outcome(stuck: boolean): Supervised {
      if (cancelled) return { kind: 'cancelled', signal: firstSignal!, stuck };
      if (report?.type === 'failed' && report.badInput) return { kind: 'bad-input', message: report.message, dir };
      const failure = report?.type === 'failed' ? report.message
        : crash !== undefined ? describeError(crash)
        : killedBecause === undefined && report === undefined ? 'the simulation thread ended unexpectedly' : undefined;
      const internal = report?.type === 'failed' ? report.stack : crash !== undefined ? internalStack(crash) : undefined;
      if (dir === undefined || !claimed) {
        if (firstSignal !== undefined && failure === undefined) return { kind: 'cancelled', signal: firstSignal, stuck };
        return { kind: 'crashed', message: failure ?? 'the run ended before it started', internal, stuck, ...(dir !== undefined ? { untouched: dir } : {}) };
      }
      // The worker finalises its manifest unless it was ended first (or could not write it).
      let manifestProblem: string | undefined;
      let final: Manifest | undefined;
      try {
        final = finishAbandonedRun(dir, nonce, readProgress(shared), killedBecause !== undefined
          ? { status: 'interrupted', interruptedBy: firstSignal ?? null, error: killedBecause }
          : { status: 'failed', interruptedBy: null, error: failure ?? 'the simulation thread ended unexpectedly' });
        if (final === undefined) manifestProblem = 'another run has taken the folder over, so its manifest was left as it is';
      } catch (error) {
        // Not the same cause twice (a full disk fails the run, then its manifest).
        const reason = fsReason(error);
        manifestProblem = `the manifest could not be updated${failure?.includes(reason) ? '' : ` (${reason})`}`;
      }
      const done = report?.type === 'done' ? report : undefined;
      const status: RunStatus = final?.status ?? done?.status ?? (killedBecause !== undefined ? 'interrupted' : 'failed');
      const error = [final ? final.error : (killedBecause ?? failure), manifestProblem].filter(Boolean).join('; ') || null;
      const interruptedBy = final?.interrupted_by ?? firstSignal ?? null;
      const exitCode = status === 'completed' ? 0
        : status === 'interrupted' ? exitCodeOf(firstSignal ?? 'SIGINT')
        : 1;
      return {
        kind: 'ended', dir, engine, status, error, interruptedBy, exitCode, stuck, internal,
        checkpointCycle: final?.checkpoint?.cycle ?? null,
        cycles: final?.cycles_completed ?? done?.cycles ?? readProgress(shared).cycles,
        wallSeconds: final?.wall_seconds ?? done?.wallSeconds ?? 0,
      };
    }
  });
}
