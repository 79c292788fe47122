import { randomUUID } from 'node:crypto';
import { closeSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinRegistry } from './builtins.js';
import { describeError } from './engine/describe-error.js';
import { ScenarioError } from './engine/errors.js';
import type { Registry } from './engine/registry.js';
import type { MetricSink, SetupProgress, Simulation } from './engine/simulation.js';
import {
  checkCheckpointEvery, CheckpointError, checkpointName, openCheckpoint, removeCheckpointTemp, writeCheckpoint,
  type CheckpointFile, type CheckpointRun,
} from './output/checkpoint.js';
import { claimOutputFolder, fsReason, lockRunFolder, OutputFolderError, releaseClaim, reopenCsv, resumableRun } from './output/folder.js';
import { fileDigest, inputDigests } from './output/inputs.js';
import type { FolderLock } from './output/lock.js';
import { csvName, manifestName, removeStaleManifestTemps, roundSeconds, writeManifest, type Manifest, type RunStatus } from './output/manifest.js';
import { MetricsCsv } from './output/metrics-csv.js';
import { defaultOutputFolder, runId } from './output/run-id.js';
import { buildSimulation } from './scenario/build.js';
import { loadScenario, type LoadedScenario, type LoadOptions } from './scenario/load.js';
import { pcsimBuild, pcsimVersion } from './version.js';

export type { RunStatus } from './output/manifest.js';

/** How a run (or a resumed one) goes: checkpoints, stopping, progress. */
export interface DriveOptions {
  /**
   * Writes DIR/checkpoint after every this many cycles (event engine: periods), once
   * their rows are in metrics.csv. A run stopped by shouldStop() writes one anyway.
   */
  readonly checkpointEvery?: number;
  /**
   * Asked after setup and after every cycle; a truthy answer ends the run there with
   * status `interrupted` (a string answer is recorded as `interrupted_by`), after
   * writing a checkpoint to resume it from. The CLI answers from its signal handlers;
   * runScenario itself installs none.
   */
  readonly shouldStop?: () => boolean | string;
  /**
   * Told when the output folder is claimed (building starts), as the build goes on (at
   * most every 200 ms, with `setup`), after setup, and after every cycle.
   */
  readonly onProgress?: (progress: RunProgress) => void;
  /** Told just before a checkpoint is written; `final` for the one of a run that stops. */
  readonly onCheckpoint?: (checkpoint: { readonly cycle: number; readonly final: boolean }) => void;
  /** Told when writing that checkpoint is over, whether it was written or not. */
  readonly onCheckpointEnd?: (checkpoint: { readonly cycle: number; readonly final: boolean }) => void;
  /**
   * Told of a problem the run goes on after (the first periodic checkpoint that could
   * not be written); default: a line on stderr.
   */
  readonly onWarning?: (message: string) => void;
  /**
   * The manifest's `nonce`, which tells this run from any other in the folder, and the
   * folder lock's (default: a random one).
   */
  readonly nonce?: string;
}

export interface RunOptions extends Omit<LoadOptions, 'registry'>, DriveOptions {
  /** The types a scenario may use; default: the built-in catalogue. */
  readonly registry?: Registry;
  /** Output folder; default `results/<name>-seed<seed>-<run id>` (see output/run-id.ts). */
  readonly out?: string;
  /** Replace the run a folder already holds (its metrics.csv, manifest.json and checkpoint). */
  readonly force?: boolean;
}

export interface ResumeOptions extends DriveOptions {
  /** The types a scenario may use; default: the built-in catalogue. */
  readonly registry?: Registry;
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
  /** The cycle this process started from: 0, or the checkpoint's when resumed. */
  readonly from: number;
  readonly csvBytes: number;
  readonly eventsProcessed: number;
  readonly simulatedTimeMs: number;
  /** While building: the step under way (see SetupProgress). */
  readonly setup?: SetupProgress;
}

export type { SetupProgress } from './engine/simulation.js';

export interface RunResult {
  readonly dir: string;
  readonly status: RunStatus;
  readonly cycles: number;
  /** Time spent running, over every part of a resumed run. */
  readonly wallSeconds: number;
  /** Time spent building the run before its first cycle (resumed: building it and restoring the checkpoint). */
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
 * input, an unusable output folder, one in use by another pcsim or one that holds a
 * run already throw ScenarioError before anything is written. From then on the
 * manifest always says how far the run got: it is rewritten after every cycle (at
 * most every 20 ms), and a failure at any point, setup included, leaves status
 * `failed` with the error (which is rethrown).
 */
export async function runScenario(file: string, options: RunOptions = {}): Promise<RunResult> {
  checkCheckpointEvery(options.checkpointEvery);
  return runLoaded(await loadScenario(file, { ...options, registry: options.registry ?? builtinRegistry() }), options);
}

/** runScenario for a scenario already loaded (the CLI's worker loads it first). */
export async function runLoaded(loaded: LoadedScenario, options: RunOptions = {}): Promise<RunResult> {
  checkCheckpointEvery(options.checkpointEvery);
  const { scenario } = loaded;
  const dir = options.out ?? defaultOutputFolder(scenario);
  const nonce = options.nonce ?? randomUUID();
  // Read now, as the run reads them: a checkpoint records them, and a resume checks them.
  const inputs = inputDigests(scenario);
  const claim = claimOutputFolder(dir, options.force === true, nonce);
  const started = new Date();
  const manifest: Manifest = {
    pcsim: pcsimVersion,
    node: process.version,
    file: loaded.file,
    run_id: runId(scenario),
    nonce,
    pid: process.pid,
    host: hostname(),
    seed: scenario.seed,
    overrides: loaded.overrides,
    scenario,
    started: started.toISOString(),
    ended: null,
    wall_seconds: 0,
    setup_seconds: null,
    cycle_seconds: 0,
    observer_seconds: 0,
    cycles_completed: 0,
    csv_bytes: 0,
    peak_rss_bytes: 0,
    ...(scenario.engine === 'event' ? { events_processed: 0, simulated_time_ms: 0 } : {}),
    status: 'running',
    interrupted_by: null,
    error: null,
    checkpoint_every: options.checkpointEvery ?? null,
    checkpoint: null,
    checkpoint_error: null,
    resumes: [],
  };
  let csv: MetricsCsv | undefined;
  // The CSV header and the first manifest: if either cannot be written, the claim is
  // given back, so no folder is left with a manifest and no CSV, or a new manifest next to an old CSV.
  try {
    csv = new MetricsCsv(claim.csvFd, csvColumns(loaded), timeColumn(loaded));
    manifest.csv_bytes = csv.bytes;
    writeManifest(dir, manifest);
  } catch (error) {
    releaseClaim(claim);
    throw new OutputFolderError(csv ? claim.manifestPath : claim.csvPath, `cannot write it (${fsReason(error)})`);
  }
  try {
    return await drive({ dir, loaded, manifest, csv, started, wallBefore: 0, timingsBefore: { cycleSeconds: 0, observerSeconds: 0 }, from: { cycles: 0, events: 0, time: 0 }, inputs }, options, {
      build: (onSetup) => buildSimulation(loaded, { onSetup }),
      setupDone: (seconds) => { manifest.setup_seconds = roundSeconds(seconds); },
      begin: (simulation, sink) => simulation.observe(sink),
    });
  } finally {
    claim.lock.release();
  }
}

/**
 * Continues the run in `dir` from its checkpoint (DIR/checkpoint) to the end: the
 * scenario file is loaded again with the run's overrides and seed, the run is built
 * and the checkpoint's state put back, metrics.csv is cut back to the checkpoint's
 * cycle and the rows of the following cycles appended. The result is the
 * metrics.csv an uninterrupted run would have written, byte for byte. A run that
 * cannot be resumed (none there, completed, still going or being resumed, another
 * pcsim version or build, the scenario or a file it reads gone or changed, a damaged
 * checkpoint, state that does not fit the run) throws ScenarioError and leaves the
 * folder as it was; once the resume is under way the manifest says how far the run
 * got, as for runScenario, and lists this resume under `resumes`.
 */
export async function resumeRun(dir: string, options: ResumeOptions = {}): Promise<RunResult> {
  checkCheckpointEvery(options.checkpointEvery);
  return resumePrepared(await prepareResume(dir, options), options);
}

/** A run checked and ready to resume: its folder is locked for this resume, and nothing in it was changed yet. */
export interface PreparedResume {
  readonly dir: string;
  /** The folder's manifest as found. */
  readonly manifest: Manifest;
  readonly checkpoint: CheckpointFile;
  readonly loaded: LoadedScenario;
  readonly lock: FolderLock;
  /** Gives the folder back without resuming (closes the checkpoint, removes the lock). */
  release(): void;
}

/**
 * Locks the folder of the run in `dir`, checks that the run can be resumed and loads
 * its scenario again; changes nothing else. Throws ScenarioError (one line) saying
 * why a run cannot be resumed, having given the folder back.
 */
export async function prepareResume(dir: string, options: { readonly registry?: Registry; readonly nonce?: string } = {}): Promise<PreparedResume> {
  const lock = lockRunFolder(dir, options.nonce ?? randomUUID());
  let checkpoint: CheckpointFile | undefined;
  try {
    const manifest = resumableRun(dir);
    const path = join(dir, checkpointName);
    if (!existsSync(path)) {
      throw new OutputFolderError(dir, 'holds no checkpoint to resume from (a run writes one when SIGINT, SIGTERM or SIGHUP stops it, and with --checkpoint-every N)');
    }
    checkpoint = openCheckpoint(path, { pcsim: pcsimVersion, build: pcsimBuild() });
    const { header } = checkpoint;
    if (header.run_id !== manifest.run_id) {
      throw new CheckpointError(path, `is of another run (run id ${header.run_id}) than the folder's ${manifestName} (run id ${manifest.run_id})`);
    }
    if (header.inputs === null || typeof header.inputs !== 'object') throw new CheckpointError(path, 'is damaged (no inputs in its header)');
    if (!existsSync(header.file)) throw new ScenarioError('', `cannot resume: the scenario file ${header.file} is gone`, dir);
    // Before the scenario loads: a changed plug-in is not even imported.
    for (const [file, digest] of Object.entries(header.inputs)) {
      const now = fileDigest(file);
      if (now !== digest) {
        throw new ScenarioError('', `${now === null ? 'cannot be read' : 'has changed'} since the checkpoint, which the run read: resuming needs the file as it was`, file);
      }
    }
    let loaded: LoadedScenario;
    try {
      loaded = await loadScenario(header.file, { seed: header.seed ?? undefined, set: header.set, registry: options.registry ?? builtinRegistry() });
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      throw new ScenarioError('', `cannot resume: the scenario no longer loads as it did (${error.message})`, dir);
    }
    const now = runId(loaded.scenario);
    if (now !== header.run_id) {
      throw new ScenarioError('', `has changed since the checkpoint (run id ${header.run_id}, now ${now}): resuming needs the scenario as it was`, header.file);
    }
    const opened = checkpoint;
    return {
      dir, manifest, checkpoint: opened, loaded, lock,
      release: () => {
        opened.close();
        lock.release();
      },
    };
  } catch (error) {
    checkpoint?.close();
    lock.release();
    throw error;
  }
}

/** Resumes a run prepareResume checked (the CLI's worker prepares it first); gives the folder back when done. */
export async function resumePrepared(prepared: PreparedResume, options: ResumeOptions = {}): Promise<RunResult> {
  try {
    return await resumeLocked(prepared, options);
  } finally {
    prepared.release();
  }
}

async function resumeLocked(prepared: PreparedResume, options: ResumeOptions): Promise<RunResult> {
  checkCheckpointEvery(options.checkpointEvery);
  const { dir, loaded, checkpoint, lock } = prepared;
  const { header } = checkpoint;
  const { scenario } = loaded;
  const started = new Date();
  const from = { cycles: header.cycle, events: header.events_processed, time: header.simulated_time_ms };
  const building = {
    dir, phase: 'building', size: scenario.size, engine: scenario.engine, total: scenario.cycles, from: from.cycles,
    cycles: from.cycles, csvBytes: header.csv_bytes, eventsProcessed: from.events, simulatedTimeMs: from.time,
  } as const;
  options.onProgress?.(building);
  // Everything that can fail is done before the folder is changed: a resume that cannot go on leaves it as it was.
  let simulation: Simulation;
  try {
    simulation = restoredSimulation(loaded, checkpoint, setupReporter((setup) => options.onProgress?.({ ...building, setup })));
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    throw new ScenarioError(error.keyPath, `${error.detail}; nothing in ${dir} was changed`, error.source, error.line);
  }
  const setupSeconds = roundSeconds((Date.now() - started.getTime()) / 1000);
  lock.check();
  const csvFd = reopenCsv(dir, MetricsCsv.header(csvColumns(loaded), timeColumn(loaded)), header.csv_bytes);
  removeCheckpointTemp(dir);
  removeStaleManifestTemps(dir);
  const before = prepared.manifest;
  const wallBefore = before.wall_seconds ?? 0;
  const every = options.checkpointEvery ?? before.checkpoint_every ?? undefined;
  const resume = {
    from_cycle: header.cycle, started: started.toISOString(), pid: process.pid, host: hostname(), node: process.version,
    setup_seconds: setupSeconds, wall_seconds_before: wallBefore,
  };
  const manifest: Manifest = {
    ...before,
    pcsim: pcsimVersion,
    node: process.version,
    nonce: lock.nonce,
    pid: process.pid,
    host: hostname(),
    ended: null,
    wall_seconds: wallBefore,
    cycles_completed: header.cycle,
    csv_bytes: header.csv_bytes,
    ...(scenario.engine === 'event' ? { events_processed: header.events_processed, simulated_time_ms: header.simulated_time_ms } : {}),
    status: 'running',
    interrupted_by: null,
    error: null,
    checkpoint_every: every ?? null,
    // The checkpoint resumed from (the manifest may name an older one if the run was killed as it wrote it).
    checkpoint: before.checkpoint?.cycle === header.cycle ? before.checkpoint
      : { file: checkpointName, cycle: header.cycle, bytes: checkpoint.bytes, written: header.written, write_seconds: null },
    checkpoint_error: before.checkpoint_error ?? null,
    resumes: [...(before.resumes ?? []), resume],
    cycle_seconds: before.cycle_seconds ?? 0,
    observer_seconds: before.observer_seconds ?? 0,
    // The totals of the part before are rewritten when this one ends.
    summaries: undefined,
  };
  try {
    writeManifest(dir, manifest);
  } catch (error) {
    try { closeSync(csvFd); } catch { /* the error below says what went wrong */ }
    throw new OutputFolderError(join(dir, manifestName), `cannot write it (${fsReason(error)})`);
  }
  const csv = new MetricsCsv(csvFd, csvColumns(loaded), timeColumn(loaded), header.csv_bytes);
  const timingsBefore = { cycleSeconds: before.cycle_seconds ?? 0, observerSeconds: before.observer_seconds ?? 0 };
  return drive({ dir, loaded, manifest, csv, started, wallBefore, timingsBefore, from, inputs: header.inputs }, { ...options, checkpointEvery: every }, {
    build: () => simulation,
    setupDone: () => {},
  });
}

/** The run built as a new one is, with the checkpoint's state put back (read from the file as checked). */
function restoredSimulation(loaded: LoadedScenario, checkpoint: CheckpointFile, onSetup: (progress: SetupProgress) => void): Simulation {
  const simulation = buildSimulation(loaded, { onSetup });
  const sections = checkpoint.readSections();
  try {
    simulation.restoreState(sections);
  } catch (error) {
    // Framing, header and checksums were checked: what is left is state that does not fit this build.
    throw new CheckpointError(checkpoint.path, `does not fit the run its scenario builds (${error instanceof Error ? error.message : String(error)})`);
  }
  return simulation;
}

/** One part of a run (the first, or a resumed one): its folder, files and where it starts. */
interface Part {
  readonly dir: string;
  readonly loaded: LoadedScenario;
  readonly manifest: Manifest;
  readonly csv: MetricsCsv;
  /** When this part started, and the time spent running in the parts before it. */
  readonly started: Date;
  readonly wallBefore: number;
  /** Seconds in cycles and in observations in the parts before it. */
  readonly timingsBefore: { readonly cycleSeconds: number; readonly observerSeconds: number };
  /** Where the run stood when this part started. */
  readonly from: { readonly cycles: number; readonly events: number; readonly time: number };
  /** The SHA-256 of each file the run reads (see output/inputs.ts), for its checkpoints. */
  readonly inputs: CheckpointRun['inputs'];
}

/** How a part gets its simulation ready for the next cycle. */
interface Start {
  /** Builds the run (and, resumed, restores its state), telling `onSetup` how far it got. */
  build(onSetup: (progress: SetupProgress) => void): Simulation;
  setupDone(seconds: number): void;
  /** Emits the rows of the cycle the part starts at (a new run observes cycle 0). */
  begin?(simulation: Simulation, sink: MetricSink): void;
}

/**
 * Runs a part to the end of the run or until shouldStop(): rows of each cycle
 * committed as it completes, the manifest kept up to date, checkpoints written, and
 * the manifest finished however the part ends.
 */
async function drive(part: Part, options: DriveOptions, start: Start): Promise<RunResult> {
  const { dir, loaded, manifest, csv, started } = part;
  const { scenario } = loaded;
  const unit = scenario.engine === 'event' ? 'period' : 'cycle';
  const csvPath = join(dir, csvName);
  const manifestPath = join(dir, manifestName);
  const every = options.checkpointEvery;
  const warn = options.onWarning ?? ((message: string) => { process.stderr.write(`pcsim: warning: ${message}\n`); });
  let simulation: Simulation | undefined;
  /** Where the run stood at the last cycle whose rows were written. */
  let committed = part.from;
  let checkpointedAt = -1;
  let warnedOfCheckpoints = false;
  let manifestWrittenAt = -Infinity;
  const report = (phase: RunProgress['phase'], setup?: SetupProgress) => options.onProgress?.({
    dir, phase, size: scenario.size, engine: scenario.engine, total: scenario.cycles, from: part.from.cycles, csvBytes: csv.bytes,
    cycles: committed.cycles, eventsProcessed: committed.events, simulatedTimeMs: committed.time, ...(setup ? { setup } : {}),
  });
  const elapsed = () => (Date.now() - started.getTime()) / 1000;
  const recordCommitted = () => {
    manifest.csv_bytes = csv.bytes;
    manifest.cycles_completed = committed.cycles;
    if (scenario.engine === 'event') {
      manifest.events_processed = committed.events;
      manifest.simulated_time_ms = committed.time;
    }
    manifest.wall_seconds = roundSeconds(part.wallBefore + elapsed());
    manifest.peak_rss_bytes = Math.max(manifest.peak_rss_bytes, process.resourceUsage().maxRSS * 1024);
    if (simulation !== undefined) {
      manifest.cycle_seconds = roundSeconds(part.timingsBefore.cycleSeconds + simulation.timings.cycleSeconds);
      manifest.observer_seconds = roundSeconds(part.timingsBefore.observerSeconds + simulation.timings.observerSeconds);
    }
  };
  const saveManifest = (durable = false) => {
    recordCommitted();
    try {
      writeManifest(dir, manifest, durable);
    } catch (error) {
      throw writeFailure(manifestPath, error);
    }
    manifestWrittenAt = performance.now();
  };
  /** Writes the rows of the cycle just completed (cycle 0: the initial observation), and the manifest when due. */
  const commit = (sim: Simulation, manifestDue: boolean) => {
    try {
      csv.commit();
    } catch (error) {
      throw writeFailure(csvPath, error);
    }
    committed = { cycles: sim.clock.cycle, events: sim.eventLoop?.processed ?? 0, time: sim.eventLoop ? sim.clock.time : 0 };
    report('running');
    if (manifestDue || performance.now() - manifestWrittenAt >= manifestIntervalMs) saveManifest();
  };
  /**
   * Writes DIR/checkpoint at the cycle just committed, then the manifest that names it.
   * The rows it counts reach the disk first, and the manifest after it: a crash of the
   * machine cannot leave a checkpoint that counts rows the disk lost.
   */
  const checkpoint = (sim: Simulation, final: boolean) => {
    const at = { cycle: committed.cycles, final };
    options.onCheckpoint?.(at);
    try {
      const begun = performance.now();
      const written = new Date().toISOString();
      const run: CheckpointRun = {
        pcsim: pcsimVersion, build: pcsimBuild(), node: process.version, run_id: manifest.run_id, file: resolve(loaded.file),
        set: loaded.given.set, seed: loaded.given.seed ?? null, inputs: part.inputs, scenario,
        cycle: committed.cycles, simulated_time_ms: committed.time, events_processed: committed.events, csv_bytes: csv.bytes, written,
      };
      try {
        csv.sync();
      } catch (error) {
        throw writeFailure(csvPath, error);
      }
      let bytes: number;
      try {
        bytes = writeCheckpoint(dir, run, sim.saveState());
      } catch (error) {
        if ((error as NodeJS.ErrnoException).syscall === undefined) throw error;
        throw writeFailure(join(dir, checkpointName), error);
      }
      checkpointedAt = committed.cycles;
      manifest.checkpoint = { file: checkpointName, cycle: committed.cycles, bytes, written, write_seconds: roundSeconds((performance.now() - begun) / 1000) };
      manifest.checkpoint_error = null;
      saveManifest(true);
    } finally {
      options.onCheckpointEnd?.(at);
    }
  };
  /**
   * A periodic checkpoint that cannot be written (a full disk) does not end the run:
   * the previous checkpoint stays, the manifest says why, and the first such failure
   * is reported. Anything else (a bug saving the state) fails the run.
   */
  const periodicCheckpoint = (sim: Simulation) => {
    try {
      checkpoint(sim, false);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).syscall === undefined) throw error;
      // A write failure's own message: it names the file and the system's reason.
      manifest.checkpoint_error = `no checkpoint at ${unit} ${committed.cycles}: ${(error as Error).message}`;
      saveManifest();
      if (!warnedOfCheckpoints) {
        warnedOfCheckpoints = true;
        const kept = manifest.checkpoint ? `the checkpoint of ${unit} ${manifest.checkpoint.cycle} stays` : 'there is no checkpoint yet';
        warn(`${manifest.checkpoint_error}; the run goes on (${kept}; the manifest records the latest failure)`);
      }
    }
  };
  const stopReason = () => {
    const answer = options.shouldStop?.() ?? false;
    return answer === false ? undefined : answer === true ? 'shouldStop' : answer;
  };
  const sink = csv.add.bind(csv);
  let error: unknown;
  try {
    report('building');
    simulation = start.build(setupReporter((setup) => report('building', setup)));
    start.setupDone(elapsed());
    report('running');
    start.begin?.(simulation, sink);
    commit(simulation, true);
    let stop = stopReason();
    while (!simulation.done && stop === undefined) {
      simulation.advance(sink);
      commit(simulation, false);
      if (every !== undefined && !simulation.done && committed.cycles % every === 0) periodicCheckpoint(simulation);
      // Lets a caller's shouldStop() see events (signals, timers) between cycles.
      await new Promise((resolve) => setImmediate(resolve));
      stop = stopReason();
    }
    // A run that stops before its end leaves a checkpoint to resume from.
    if (!simulation.done && checkpointedAt !== committed.cycles) {
      try {
        checkpoint(simulation, true);
      } catch (caught) {
        manifest.error = `no checkpoint at ${unit} ${committed.cycles}: ${describeError(caught)}`;
      }
    }
    manifest.status = simulation.done ? 'completed' : 'interrupted';
    manifest.interrupted_by = simulation.done ? null : stop ?? null;
  } catch (caught) {
    error = caught;
    csv.discard();
    manifest.status = 'failed';
    manifest.error = describeError(caught);
  }
  // The observers' totals, where the run stands now (the end, or where it stopped or failed).
  if (simulation !== undefined) {
    try {
      const summaries = simulation.summaries();
      if (Object.keys(summaries).length > 0) manifest.summaries = summaries;
    } catch (caught) {
      if (error === undefined) {
        error = caught;
        manifest.status = 'failed';
        manifest.error = `summing up: ${describeError(caught)}`;
      }
    }
  }
  recordCommitted();
  try {
    csv.close();
  } catch { /* a close error cannot lose rows: every committed row was written */ }
  manifest.ended = new Date().toISOString();
  manifest.wall_seconds = roundSeconds(part.wallBefore + elapsed());
  try {
    writeManifest(dir, manifest);
  } catch (caught) {
    const cause = `cannot write ${manifestPath} (${fsReason(caught)})`;
    if (error === undefined) throw new Error(cause);
    // The run may have failed for this very reason (writing the manifest after a cycle).
    const first = describeError(error);
    throw first.includes(cause) ? error : new Error(`${first}; and ${cause}`);
  }
  if (error !== undefined) throw error;
  const setupSeconds = manifest.resumes.length > 0 ? manifest.resumes.at(-1)!.setup_seconds : manifest.setup_seconds;
  return { dir, status: manifest.status, cycles: manifest.cycles_completed, wallSeconds: manifest.wall_seconds, setupSeconds: setupSeconds ?? 0 };
}

/** How often, at most, the build's progress is passed on (a new step is passed on at once). */
const setupReportMs = 200;

/** Passes on the build's progress when its step changes, else at most every setupReportMs. */
function setupReporter(tell: (progress: SetupProgress) => void): (progress: SetupProgress) => void {
  let step = '';
  let toldAt = -Infinity;
  return (progress) => {
    const now = performance.now();
    if (progress.step === step && now - toldAt < setupReportMs) return;
    step = progress.step;
    toldAt = now;
    tell(progress);
  };
}

/** The CSV's first columns, which name the run: scenario, seed, and each --set override. */
const csvColumns = ({ scenario, overrides }: LoadedScenario) => ({ scenario: scenario.name, seed: scenario.seed, ...overrides });
const timeColumn = ({ scenario }: LoadedScenario) => (scenario.engine === 'event' ? 'time' : 'cycle');

/** A failed write (a full disk...) as an error that names the file and keeps the system's code. */
function writeFailure(path: string, error: unknown): Error {
  const { code, syscall } = error as NodeJS.ErrnoException;
  return Object.assign(new Error(`cannot write ${path} (${fsReason(error)})`), { code, syscall });
}
