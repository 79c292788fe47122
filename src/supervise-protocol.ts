import { constants } from 'node:os';
import type { RunProgress, RunStatus } from './run.js';

/*
 * What the main thread and the simulation's worker share (supervise.ts, run-worker.ts).
 * `flags` (Int32) holds the phase, the signal received and which bank of `numbers`
 * (Float64) is current. The worker writes a run's progress to the bank not in use and
 * then flips the bank index: one atomic store, so however abruptly the worker is
 * ended, the main thread reads a cycle count and a CSV length that belong together.
 */

export const Slot = { phase: 0, signal: 1, bank: 2 } as const;
/** The worker's phase as far as cancelling goes: a signal while loading cancels the run before it writes anything. */
export const Phase = { loading: 0, cancelled: 1, started: 2 } as const;
const bankSize = 4;

export interface WorkerInput {
  /** What to do: run a scenario file, or resume the run in a folder. */
  readonly task: { readonly run: string } | { readonly resume: string };
  readonly out?: string;
  readonly force?: boolean;
  readonly seed?: number;
  readonly set?: readonly string[];
  readonly checkpointEvery?: number;
  /** The run's manifest nonce: the main thread finishes only a manifest that carries it. */
  readonly nonce: string;
  readonly flags: Int32Array;
  readonly numbers: Float64Array;
}

export type WorkerMessage =
  | { type: 'phase'; phase: RunProgress['phase']; dir: string; size: number; total: number; from: number; engine: 'cycle' | 'event' }
  /** The run is writing a checkpoint (`final`: it stopped after a cycle); writing it does not count against the grace period. */
  | { type: 'checkpointing'; cycle: number; final: boolean }
  /** Writing that checkpoint is over (whether it was written or not). */
  | { type: 'checkpointed'; cycle: number; final: boolean }
  /** Something the run goes on after (a periodic checkpoint that could not be written), for stderr. */
  | { type: 'warning'; message: string }
  /** The run ended and the worker wrote its final manifest. */
  | { type: 'done'; status: RunStatus; cycles: number; wallSeconds: number }
  /** `stack` when the error is a bug in pcsim itself (thrown by its own code, not a plug-in's nor the system's). */
  | { type: 'failed'; message: string; badInput: boolean; stack?: string };

/** Progress as last published: whole cycles and the length of metrics.csv that holds exactly them. */
export interface Committed {
  readonly cycles: number;
  readonly csvBytes: number;
  readonly eventsProcessed: number;
  readonly simulatedTimeMs: number;
}

export function sharedState(): { flags: Int32Array; numbers: Float64Array } {
  return {
    flags: new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT)),
    numbers: new Float64Array(new SharedArrayBuffer(2 * bankSize * Float64Array.BYTES_PER_ELEMENT)),
  };
}

export function publishProgress(shared: { flags: Int32Array; numbers: Float64Array }, progress: RunProgress): void {
  const bank = 1 - Atomics.load(shared.flags, Slot.bank);
  const at = bank * bankSize;
  shared.numbers[at] = progress.cycles;
  shared.numbers[at + 1] = progress.csvBytes;
  shared.numbers[at + 2] = progress.eventsProcessed;
  shared.numbers[at + 3] = progress.simulatedTimeMs;
  Atomics.store(shared.flags, Slot.bank, bank);
}

export function readProgress(shared: { flags: Int32Array; numbers: Float64Array }): Committed {
  const at = Atomics.load(shared.flags, Slot.bank) * bankSize;
  const n = shared.numbers;
  return { cycles: n[at], csvBytes: n[at + 1], eventsProcessed: n[at + 2], simulatedTimeMs: n[at + 3] };
}

/** The signals `pcsim run` handles. */
export const handledSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type HandledSignal = (typeof handledSignals)[number];

export function signalNameOf(number: number): HandledSignal | undefined {
  return handledSignals.find((name) => constants.signals[name] === number);
}

/** The shell's exit code for a process ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143). */
export function exitCodeOf(signal: HandledSignal): number {
  return 128 + constants.signals[signal];
}

