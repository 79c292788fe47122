import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { syncFolder } from './checkpoint.js';

/** The files of a run's folder (and DIR/checkpoint, see checkpoint.ts). */
export const csvName = 'metrics.csv';
export const manifestName = 'manifest.json';

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

/** manifest.json: what was run, and how far it got (rewritten after every cycle). */
export interface Manifest {
  pcsim: string;
  node: string;
  file: string;
  run_id: string;
  /** Tells this run from any other that used the folder (a --force rerun): checked before the manifest is finished for it. */
  nonce: string;
  /** The process that runs it and its host: --force refuses a folder whose run is still going. */
  pid: number;
  host: string;
  seed: number;
  overrides: Readonly<Record<string, string>>;
  scenario: unknown;
  /** When the run first started (ISO time); each resume's start is in `resumes`. */
  started: string;
  ended: string | null;
  /** Time spent running so far (updated with the manifest), summed over the parts of a resumed run. */
  wall_seconds: number | null;
  /** Building the run before its first cycle (a resume's own is in `resumes`). */
  setup_seconds: number | null;
  /**
   * Of wall_seconds, the time in cycles (controls and protocol steps; the event engine's
   * events, timers and messages) and in observations (observers, cycle 0's included),
   * summed over the parts of a resumed run. The rest is setup and writing files.
   * Absent from manifests of older pcsim versions.
   */
  cycle_seconds?: number;
  observer_seconds?: number;
  cycles_completed: number;
  /** Length of metrics.csv when it held exactly the cycles_completed cycles (after a SIGKILL, rows past it may follow). */
  csv_bytes: number;
  peak_rss_bytes: number;
  events_processed?: number;
  simulated_time_ms?: number;
  status: RunStatus;
  /** What ended the run, when it was interrupted: a signal name, or what the caller's shouldStop() said. */
  interrupted_by: string | null;
  /** Why the run failed, or why it was ended before its cycle did. */
  error: string | null;
  /** `--checkpoint-every`: a checkpoint is written after every this many cycles (periods); null: only when stopped by a signal. */
  checkpoint_every: number | null;
  /** The last checkpoint written (DIR/checkpoint), from which `pcsim resume` continues; null: none yet. */
  checkpoint: CheckpointRecord | null;
  /** Why the latest checkpoint could not be written (a full disk), while the run went on; null when it was written. */
  checkpoint_error: string | null;
  /** Each time the run was resumed from a checkpoint, in order. */
  resumes: ResumeRecord[];
  /** Totals some observers keep (e.g. `subclouds`' metering), by observer name, as the run ended; absent when none does. */
  summaries?: Record<string, Record<string, unknown>>;
}

export interface CheckpointRecord {
  /** The file, relative to the run's folder. */
  file: string;
  /** Cycles (event engine: periods) completed when it was written. */
  cycle: number;
  bytes: number;
  /** When it was written (ISO time), and how long writing it took (saving the state, writing, flushing to disk; null: not known). */
  written: string;
  write_seconds: number | null;
}

export interface ResumeRecord {
  /** The checkpoint's cycle (period), where the run went on from. */
  from_cycle: number;
  /** When this part started (ISO time). */
  started: string;
  pid: number;
  host: string;
  node: string;
  /** Building the run and restoring the checkpoint's state into it. */
  setup_seconds: number | null;
  /** Time spent running in the parts before this one (the manifest's wall_seconds counts them too). */
  wall_seconds_before: number;
}

const tempPrefix = `.${manifestName}.`;

/** Seconds to the millisecond, as the manifest records them. */
export const roundSeconds = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** Writes bytes in full (writeSync may write less than asked). */
export function writeFully(fd: number, data: Uint8Array, position: number | null = null): void {
  for (let done = 0; done < data.length;) {
    done += writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
  }
}

/**
 * Replaces DIR/manifest.json atomically: the text goes to a fresh temporary file in
 * the same folder, which is then renamed over the old one. A reader (or a run killed
 * at any moment) sees the old manifest or the new one, never a mix; a symlink named
 * manifest.json is replaced, not followed. On a full disk the temporary file cannot
 * get a block of its own, so the manifest is rewritten in place instead (not atomic,
 * but the status still reaches the file). `durable`: flushed to disk before it
 * replaces the old one, and the rename too (a crash of the machine then keeps it).
 */
export function writeManifest(dir: string, manifest: Manifest, durable = false): void {
  const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  try {
    replaceManifest(dir, text, durable);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
    try {
      rewriteManifestInPlace(dir, text);
    } catch {
      throw error;
    }
  }
}

function replaceManifest(dir: string, text: Uint8Array, durable: boolean): void {
  const temp = join(dir, `${tempPrefix}${process.pid}-${threadId}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (error) {
    // Left behind by a run of this process that was killed while writing.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(temp);
    fd = openSync(temp, 'wx');
  }
  try {
    writeFully(fd, text);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, join(dir, manifestName));
  if (durable) syncFolder(dir);
}

/** Overwrites the existing manifest.json's blocks (never through a symlink), then cuts off what is left of the old text. */
function rewriteManifestInPlace(dir: string, text: Uint8Array): void {
  const fd = openSync(join(dir, manifestName), constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    writeFully(fd, text, 0);
    ftruncateSync(fd, text.length);
  } finally {
    closeSync(fd);
  }
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, manifestName), 'utf8')) as Manifest;
}

/** Removes temporary manifests a killed writer left in `dir`. */
export function removeStaleManifestTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(tempPrefix) && name.endsWith('.tmp')) unlinkSync(join(dir, name));
  }
}

/** Cuts metrics.csv back to the rows of whole cycles (`bytes` long), without following a symlink. */
export function truncateCsv(dir: string, bytes: number): void {
  const fd = openSync(join(dir, csvName), constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    if (fstatSync(fd).size > bytes) ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** How a run the main thread had to end (or that crashed) ended. */
export interface AbandonedEnd {
  readonly status: RunStatus;
  readonly interruptedBy: string | null;
  readonly error: string;
}

/**
 * Finishes the manifest of a run whose simulation ended without doing it (it was
 * terminated, or crashed): metrics.csv is cut back to `committed.csvBytes`, the length
 * that holds exactly `committed.cycles` whole cycles, and the manifest says so. A
 * manifest the run finished itself is left as it is, and so is the folder when its
 * manifest is not this run's (`nonce`): another run took the folder over (undefined).
 */
export function finishAbandonedRun(
  dir: string,
  nonce: string,
  committed: { readonly cycles: number; readonly csvBytes: number; readonly eventsProcessed: number; readonly simulatedTimeMs: number },
  end: AbandonedEnd,
): Manifest | undefined {
  const manifest = readManifest(dir);
  if (manifest.nonce !== nonce) return undefined;
  if (manifest.status === 'running') {
    if (committed.csvBytes > 0) truncateCsv(dir, committed.csvBytes);
    manifest.cycles_completed = committed.cycles;
    if (committed.csvBytes > 0) manifest.csv_bytes = committed.csvBytes;
    if (manifest.events_processed !== undefined) {
      manifest.events_processed = committed.eventsProcessed;
      manifest.simulated_time_ms = committed.simulatedTimeMs;
    }
    const ended = new Date();
    manifest.ended = ended.toISOString();
    // Time spent running: the parts before this one, if resumed, and this one.
    const part = manifest.resumes?.at(-1);
    manifest.wall_seconds = roundSeconds((part?.wall_seconds_before ?? 0) + (ended.getTime() - Date.parse(part?.started ?? manifest.started)) / 1000);
    manifest.peak_rss_bytes = Math.max(manifest.peak_rss_bytes ?? 0, process.resourceUsage().maxRSS * 1024);
    manifest.status = end.status;
    manifest.interrupted_by = end.interruptedBy;
    manifest.error = end.error;
    writeManifest(dir, manifest);
  }
  removeStaleManifestTemps(dir);
  return manifest;
}
