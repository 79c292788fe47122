// The thread a `pcsim run` or `pcsim resume` simulates in (see supervise.ts): it loads
// the scenario (or checks the run to resume), runs it, and reports to the main thread,
// which handles signals and the progress display.
import { parentPort, workerData } from 'node:worker_threads';
import { builtinRegistry } from './builtins.js';
import { describeError, internalStack } from './engine/describe-error.js';
import { ScenarioError } from './engine/errors.js';
import { prepareResume, resumePrepared, runLoaded, type DriveOptions, type RunResult } from './run.js';
import { loadScenario } from './scenario/load.js';
import { Phase, publishProgress, signalNameOf, Slot, type WorkerInput, type WorkerMessage } from './supervise-protocol.js';
import type { SetupMessage } from './supervise.js';

const input = workerData as WorkerInput;
const post = (message: WorkerMessage | SetupMessage) => parentPort!.postMessage(message);

/** Checks the input and loads what the run needs, writing nothing; then runs it unless a signal came meanwhile. */
async function main(): Promise<void> {
  const registry = builtinRegistry();
  let start: () => Promise<RunResult>;
  let giveBack = () => {};
  if ('resume' in input.task) {
    const prepared = await prepareResume(input.task.resume, { registry, nonce: input.nonce });
    giveBack = prepared.release;
    start = () => resumePrepared(prepared, driving());
  } else {
    const loaded = await loadScenario(input.task.run, { seed: input.seed, set: input.set, registry });
    start = () => runLoaded(loaded, { ...driving(), out: input.out, force: input.force });
  }
  // A signal that came while loading cancelled the run: nothing may be written now.
  if (Atomics.compareExchange(input.flags, Slot.phase, Phase.loading, Phase.started) !== Phase.loading) {
    giveBack();
    return;
  }
  const result = await start();
  post({ type: 'done', status: result.status, cycles: result.cycles, wallSeconds: result.wallSeconds });
}

/** Stopping on the main thread's signal, progress to it, and checkpoints. */
function driving(): DriveOptions {
  let phase: string | undefined;
  return {
    nonce: input.nonce,
    checkpointEvery: input.checkpointEvery,
    shouldStop: () => signalNameOf(Atomics.load(input.flags, Slot.signal)) ?? false,
    onProgress: (progress) => {
      publishProgress(input, progress);
      if (progress.phase !== phase) {
        phase = progress.phase;
        post({ type: 'phase', phase: progress.phase, dir: progress.dir, size: progress.size, total: progress.total, from: progress.from, engine: progress.engine });
      }
      // Delivered while this thread is still busy building: posting does not wait for its event loop.
      if (progress.setup) post({ type: 'setup', ...progress.setup });
    },
    // The main thread holds off the grace period while a checkpoint is written.
    onCheckpoint: ({ cycle, final }) => post({ type: 'checkpointing', cycle, final }),
    onCheckpointEnd: ({ cycle, final }) => post({ type: 'checkpointed', cycle, final }),
    onWarning: (message) => post({ type: 'warning', message }),
  };
}

main().catch((error: unknown) => {
  // Bad input is already one line that names the file (or --set, --out) and key.
  if (error instanceof ScenarioError) post({ type: 'failed', message: error.message, badInput: true });
  else post({ type: 'failed', message: describeError(error), badInput: false, stack: internalStack(error) });
});
