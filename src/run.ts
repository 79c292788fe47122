import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { describeError } from './engine/describe-error.js';
import type { Simulation } from './engine/simulation.js';
import { claimOutputFolder, fsReason, OutputFolderError, releaseClaim, type ClaimedFolder } from './output/folder.js';
import { writeManifest, type Manifest, type RunStatus } from './output/manifest.js';
import { MetricsCsv } from './output/metrics-csv.js';
import { defaultOutputFolder, runId } from './output/run-id.js';
import { buildSimulation } from './scenario/build.js';
import { loadScenario, type LoadedScenario, type LoadOptions } from './scenario/load.js';
import { pcsimVersion } from './version.js';

export type { RunStatus } from './output/manifest.js';

export interface RunOptions extends LoadOptions {
  /** Output folder; default `results/<name>-seed<seed>-<run id>` (see output/run-id.ts). */
  readonly out?: string;
  /** Replace the run a folder already holds (its metrics.csv and manifest.json). */
  readonly force?: boolean;
  /**
   * Asked after setup and after every cycle; a truthy answer ends the run there with
   * status `interrupted` (a string answer is recorded as `interrupted_by`). The CLI
   * answers from its signal handlers; runScenario itself installs none.
   */
  readonly shouldStop?: () => boolean | string;
  /** Told when the output folder is claimed (building starts), after setup, and after every cycle. */
  readonly onProgress?: (progress: RunProgress) => void;
  /** The manifest's `nonce`, which tells this run from any other in the folder (default: a random one). */
  readonly nonce?: string;
}

/** Where a run stands. `csvBytes` is the length of metrics.csv holding exactly `cycles` whole cycles. */
export interface RunProgress {
  readonly dir: string;
  readonly phase: 'building' | 'running';
  readonly size: number;
  readonly engine: 'cycle' | 'event';
  /** Cycles (event engine: periods) completed, and in all. */
  readonly cycles: number;
  readonly total: number;
  readonly csvBytes: number;
  readonly eventsProcessed: number;
  readonly simulatedTimeMs: number;
}

export interface RunResult {
  readonly dir: string;
  readonly status: RunStatus;
  readonly cycles: number;
  readonly wallSeconds: number;
  /** Time spent building the run before its first cycle. */
  readonly setupSeconds: number;
}

/**
 * A cycle's rows are written when it completes; the manifest is rewritten after a
 * cycle unless the last rewrite was less than this long ago. Rewriting it costs a
 * few hundred µs (a new file and a rename), which would dominate runs of many tiny
 * cycles; its `csv_bytes` says which rows it counts.
 */
const manifestIntervalMs = 20;

/**
 * Loads a scenario, runs it, and writes DIR/metrics.csv and DIR/manifest.json. Bad
 * input, an unusable output folder or one that holds a run already throw
 * ScenarioError before anything is written. From then on the manifest always says how
 * far the run got: it is rewritten after every cycle (at most every 20 ms), and a
 * failure at any point, setup included, leaves status `failed` with the error (which
 * is rethrown).
 */
export async function runScenario(file: string, options: RunOptions = {}): Promise<RunResult> {
  return runLoaded(await loadScenario(file, options), options);
}

/** runScenario for a scenario already loaded (the CLI's worker loads it first). */
export async function runLoaded(loaded: LoadedScenario, options: RunOptions = {}): Promise<RunResult> {
  const { scenario, overrides } = loaded;
  const dir = options.out ?? defaultOutputFolder(scenario);
  const claim = claimOutputFolder(dir, options.force === true);
  const started = new Date();
  const manifest: Manifest = {
    pcsim: pcsimVersion,
    node: process.version,
    file: loaded.file,
    run_id: runId(scenario),
    nonce: options.nonce ?? randomUUID(),
    pid: process.pid,
    host: hostname(),
    seed: scenario.seed,
    overrides,
    scenario,
    started: started.toISOString(),
    ended: null,
    wall_seconds: null,
    setup_seconds: null,
    cycles_completed: 0,
    csv_bytes: 0,
    peak_rss_bytes: 0,
    ...(scenario.engine === 'event' ? { events_processed: 0, simulated_time_ms: 0 } : {}),
    status: 'running',
    interrupted_by: null,
    error: null,
  };
  const csv = startFiles(claim, manifest, () => new MetricsCsv(claim.csvFd, { scenario: scenario.name, seed: scenario.seed, ...overrides },
    scenario.engine === 'event' ? 'time' : 'cycle'));

  let simulation: Simulation | undefined;
  /** Where the run stood at the last cycle whose rows were written. */
  let committed = { cycles: 0, events: 0, time: 0 };
  let manifestWrittenAt = -Infinity;
  const report = (phase: RunProgress['phase']) => options.onProgress?.({
    dir, phase, size: scenario.size, engine: scenario.engine, total: scenario.cycles, csvBytes: csv.bytes,
    cycles: committed.cycles, eventsProcessed: committed.events, simulatedTimeMs: committed.time,
  });
  const recordCommitted = () => {
    manifest.csv_bytes = csv.bytes;
    manifest.cycles_completed = committed.cycles;
    if (scenario.engine === 'event') {
      manifest.events_processed = committed.events;
      manifest.simulated_time_ms = committed.time;
    }
    manifest.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
  };
  /** Writes the rows of the cycle just completed (cycle 0: the initial observation), and the manifest when due. */
  const commit = (sim: Simulation, manifestDue: boolean) => {
    try {
      csv.commit();
    } catch (error) {
      throw writeFailure(claim.csvPath, error);
    }
    committed = { cycles: sim.clock.cycle, events: sim.eventLoop?.processed ?? 0, time: sim.eventLoop ? sim.clock.time : 0 };
    report('running');
    if (!manifestDue && performance.now() - manifestWrittenAt < manifestIntervalMs) return;
    recordCommitted();
    try {
      writeManifest(dir, manifest);
    } catch (error) {
      throw writeFailure(claim.manifestPath, error);
    }
    manifestWrittenAt = performance.now();
  };
  const stopReason = () => {
    const answer = options.shouldStop?.() ?? false;
    return answer === false ? undefined : answer === true ? 'shouldStop' : answer;
  };
  const sink = csv.add.bind(csv);
  let error: unknown;
  try {
    report('building');
    simulation = buildSimulation(loaded);
    manifest.setup_seconds = (Date.now() - started.getTime()) / 1000;
    report('running');
    simulation.observe(sink);
    commit(simulation, true);
    let stop = stopReason();
    while (!simulation.done && stop === undefined) {
      simulation.advance(sink);
      commit(simulation, false);
      // Lets a caller's shouldStop() see events (signals, timers) between cycles.
      await new Promise((resolve) => setImmediate(resolve));
      stop = stopReason();
    }
    manifest.status = stop === undefined ? 'completed' : 'interrupted';
    manifest.interrupted_by = stop ?? null;
  } catch (caught) {
    error = caught;
    csv.discard();
    manifest.status = 'failed';
    manifest.error = describeError(caught);
  }
  recordCommitted();
  try {
    csv.close();
  } catch { /* a close error cannot lose rows: every committed row was written */ }
  const ended = new Date();
  manifest.ended = ended.toISOString();
  manifest.wall_seconds = (ended.getTime() - started.getTime()) / 1000;
  try {
    writeManifest(dir, manifest);
  } catch (caught) {
    const cause = `cannot write ${claim.manifestPath} (${fsReason(caught)})`;
    if (error === undefined) throw new Error(cause);
    // The run may have failed for this very reason (writing the manifest after a cycle).
    const first = describeError(error);
    throw first.includes(cause) ? error : new Error(`${first}; and ${cause}`);
  }
  if (error !== undefined) throw error;
  return { dir, status: manifest.status, cycles: manifest.cycles_completed, wallSeconds: manifest.wall_seconds, setupSeconds: manifest.setup_seconds ?? 0 };
}

/**
 * Writes the CSV header and the first manifest (`running`, 0 cycles). If either cannot
 * be written the claim is given back, so no folder is left with a manifest and no CSV,
 * or a new manifest next to an old CSV.
 */
function startFiles(claim: ClaimedFolder, manifest: Manifest, openCsv: () => MetricsCsv): MetricsCsv {
  let csv: MetricsCsv | undefined;
  try {
    csv = openCsv();
    manifest.csv_bytes = csv.bytes;
    writeManifest(claim.dir, manifest);
    return csv;
  } catch (error) {
    releaseClaim(claim);
    const what = csv ? claim.manifestPath : claim.csvPath;
    throw new OutputFolderError(what, `cannot write it (${fsReason(error)})`);
  }
}

/** A failed write (a full disk...) as an error that names the file and keeps the system's code. */
function writeFailure(path: string, error: unknown): Error {
  const { code, syscall } = error as NodeJS.ErrnoException;
  return Object.assign(new Error(`cannot write ${path} (${fsReason(error)})`), { code, syscall });
}
