import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSimulation } from './scenario/build.js';
import { loadScenario, type LoadOptions } from './scenario/load.js';
import { MetricsCsv } from './output/metrics-csv.js';
import { pcsimVersion } from './version.js';

export interface RunOptions extends LoadOptions {
  /** Output folder; default `results/<scenario name>-seed<seed>`. */
  readonly out?: string;
  /** Called after every cycle (progress display). Must not touch the simulation. */
  readonly onCycle?: (cycle: number, total: number) => void;
}

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

export interface RunResult {
  readonly dir: string;
  readonly status: RunStatus;
  readonly cycles: number;
  readonly wallSeconds: number;
}

/**
 * Loads a scenario, runs it, and writes DIR/metrics.csv and DIR/manifest.json.
 * SIGINT and SIGTERM end the run after the current cycle with status `interrupted`;
 * an exception ends it with status `failed` (and is rethrown). Bad input throws
 * ScenarioError before anything is written.
 */
export async function runScenario(file: string, options: RunOptions = {}): Promise<RunResult> {
  const loaded = await loadScenario(file, options);
  const { scenario, overrides } = loaded;
  const simulation = buildSimulation(loaded);
  const dir = options.out ?? join('results', `${scenario.name}-seed${scenario.seed}`);
  mkdirSync(dir, { recursive: true });

  const started = new Date();
  const manifest = {
    pcsim: pcsimVersion,
    node: process.version,
    file,
    seed: scenario.seed,
    overrides,
    scenario,
    started: started.toISOString(),
    ended: null as string | null,
    wall_seconds: null as number | null,
    cycles_completed: 0,
    peak_rss_bytes: 0,
    ...(scenario.engine === 'event' ? { events_processed: 0, simulated_time_ms: 0 } : {}),
    status: 'running' as RunStatus,
    error: null as string | null,
  };
  const writeManifest = () => writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeManifest();

  const csv = new MetricsCsv(join(dir, 'metrics.csv'), { scenario: scenario.name, seed: scenario.seed, ...overrides },
    scenario.engine === 'event' ? 'time' : 'cycle');
  let interrupted = false;
  const interrupt = () => { interrupted = true; };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const sink = csv.add.bind(csv);
  let error: unknown;
  try {
    simulation.observe(sink);
    csv.flush();
    while (!simulation.done && !interrupted) {
      simulation.advance(sink);
      csv.flush();
      manifest.cycles_completed = simulation.clock.cycle;
      options.onCycle?.(simulation.clock.cycle, scenario.cycles);
      // Let signal handlers run between cycles.
      await new Promise((resolve) => setImmediate(resolve));
    }
    manifest.status = interrupted ? 'interrupted' : 'completed';
  } catch (caught) {
    error = caught;
    manifest.status = 'failed';
    manifest.error = caught instanceof Error ? caught.message : String(caught);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    csv.close();
    const ended = new Date();
    manifest.ended = ended.toISOString();
    manifest.wall_seconds = (ended.getTime() - started.getTime()) / 1000;
    manifest.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
    if (simulation.eventLoop) {
      manifest.events_processed = simulation.eventLoop.processed;
      manifest.simulated_time_ms = simulation.clock.time;
    }
    writeManifest();
  }
  if (error !== undefined) throw error;
  return { dir, status: manifest.status, cycles: manifest.cycles_completed, wallSeconds: manifest.wall_seconds! };
}
