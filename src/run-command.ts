import { SingleBar } from 'cli-progress';
import { runScenario } from './run.js';
import { ScenarioError } from './scenario/errors.js';

export interface RunCommandArgs {
  readonly scenario: string;
  readonly out?: string;
  readonly seed?: number;
  readonly set?: string[];
  readonly progress: boolean;
}

/** `pcsim run`: runs a scenario with a progress bar on a terminal and prints where the results are. */
export async function runCommand(args: RunCommandArgs): Promise<void> {
  if (args.seed !== undefined && (!Number.isInteger(args.seed) || args.seed < 0)) {
    throw new ScenarioError('', `expected a non-negative integer, found ${args.seed}`, '--seed');
  }
  const bar = args.progress && process.stderr.isTTY
    ? new SingleBar({ format: 'cycle {value}/{total} | {speed} cycles/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true })
    : undefined;
  const started = performance.now();
  const result = await runScenario(args.scenario, {
    out: args.out,
    seed: args.seed,
    set: args.set,
    onCycle: bar && ((cycle, total) => {
      if (cycle === 1) bar.start(total, 0, { speed: '-' });
      bar.update(cycle, { speed: (cycle / ((performance.now() - started) / 1000)).toFixed(2) });
    }),
  }).finally(() => bar?.stop());
  process.stderr.write(`pcsim: ${result.status}: ${result.cycles} cycles in ${result.wallSeconds.toFixed(1)} s; results in ${result.dir}\n`);
  if (result.status === 'interrupted') process.exitCode = 130;
}
