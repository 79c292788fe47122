// The thread a `pcsim run` simulates in (see supervise.ts): it loads the scenario, runs
// it, and reports to the main thread, which handles signals and the progress display.
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from './engine/describe-error.js';
import { runLoaded } from './run.js';
import { ScenarioError } from './engine/errors.js';
import { loadScenario } from './scenario/load.js';
import { internalStack } from './engine/describe-error.js';
import { Phase, publishProgress, signalNameOf, Slot, type WorkerInput, type WorkerMessage } from './supervise-protocol.js';

const input = workerData as WorkerInput;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

async function main(): Promise<void> {
  const loaded = await loadScenario(input.file, { seed: input.seed, set: input.set });
  // A signal that came while loading cancelled the run: nothing may be written now.
  if (Atomics.compareExchange(input.flags, Slot.phase, Phase.loading, Phase.started) !== Phase.loading) return;
  let phase: string | undefined;
  const result = await runLoaded(loaded, {
    out: input.out,
    force: input.force,
    nonce: input.nonce,
    shouldStop: () => signalNameOf(Atomics.load(input.flags, Slot.signal)) ?? false,
    onProgress: (progress) => {
      publishProgress(input, progress);
      if (progress.phase !== phase) {
        phase = progress.phase;
        post({ type: 'phase', phase: progress.phase, dir: progress.dir, size: progress.size, total: progress.total, engine: progress.engine });
      }
    },
  });
  post({ type: 'done', status: result.status, cycles: result.cycles, wallSeconds: result.wallSeconds });
}

main().catch((error: unknown) => {
  // Bad input is already one line that names the file (or --set, --out) and key.
  if (error instanceof ScenarioError) post({ type: 'failed', message: error.message, badInput: true });
  else post({ type: 'failed', message: describeError(error), badInput: false, stack: internalStack(error) });
});

