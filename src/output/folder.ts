import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { checkpointName, removeCheckpointTemp } from './checkpoint.js';
import { fsReason, OutputFolderError } from './folder-error.js';
import { lockFolder, type FolderLock } from './lock.js';
import { csvName, manifestName, removeStaleManifestTemps, type Manifest } from './manifest.js';

export { fsReason, OutputFolderError } from './folder-error.js';

/** The files of a run, created fresh: the CSV's descriptor is open for writing. */
export interface ClaimedFolder {
  readonly dir: string;
  readonly csvPath: string;
  readonly manifestPath: string;
  readonly csvFd: number;
  /** The folder's lock (DIR/pcsim.lock), held until the run ends. */
  readonly lock: FolderLock;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * Creates `dir` (and missing parents) and claims it for a new run: its lock is taken
 * for `nonce` (see lock.ts) before anything in it is looked at, and metrics.csv is
 * created with O_EXCL, so an existing file, or a symlink planted in its place, is
 * never written through. A folder that already holds a run (metrics.csv,
 * manifest.json or a checkpoint) is refused unless `force`, which unlinks those files
 * (never their targets) first. Even with `force`, a folder in use by another pcsim,
 * whose run is still going (its process alive on this host) or whose manifest.json is
 * not pcsim's is refused. A refused claim gives the lock back.
 */
export function claimOutputFolder(dir: string, force: boolean, nonce: string): ClaimedFolder {
  if (dir === '') throw new OutputFolderError('--out', 'expected a folder, found an empty path');
  ensureFolder(dir);
  const lock = lockFolder(dir, nonce);
  try {
    return { ...claimLocked(dir, force), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function claimLocked(dir: string, force: boolean): Omit<ClaimedFolder, 'lock'> {
  const csvPath = join(dir, csvName);
  const manifestPath = join(dir, manifestName);
  const present: string[] = [];
  for (const [name, path] of [[csvName, csvPath], [manifestName, manifestPath], [checkpointName, join(dir, checkpointName)]]) {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw new OutputFolderError(path, `cannot inspect it (${fsReason(error)})`);
    }
    if (stats.isDirectory()) throw new OutputFolderError(path, `is a folder; pcsim writes its ${name} there (remove it, or choose another --out)`);
    present.push(name);
  }
  const previous = present.includes(manifestName) ? previousRun(manifestPath) : undefined;
  if (previous === 'foreign') {
    throw new OutputFolderError(dir, `holds files pcsim did not write (${manifestName} is not a pcsim manifest), which --force would not replace; choose another --out`);
  }
  if (previous?.status === 'running' && isLiveHere(previous)) throw stillGoing(dir, previous);
  if (present.length > 0 && !force) {
    const summary = previous && runSummary(previous);
    const held = `${present.join(', ')}${summary ? `: ${summary}` : ''}`;
    if (present.includes(checkpointName) && typeof previous === 'object' && previous.status !== 'completed') {
      throw new OutputFolderError(dir, `holds an unfinished run (${held}): pcsim resume ${dir} continues it from its checkpoint; --force replaces it, deleting the checkpoint; or choose another --out`);
    }
    throw new OutputFolderError(dir, `holds a run already (${held}); pass --force to replace it, or choose another --out`);
  }
  if (force) {
    removeStaleManifestTemps(dir);
    removeCheckpointTemp(dir);
  }
  for (const name of present) {
    try {
      unlinkSync(join(dir, name));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw new OutputFolderError(join(dir, name), `cannot remove the old file (${fsReason(error)})`);
    }
  }
  let csvFd: number;
  try {
    csvFd = openSync(csvPath, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw new OutputFolderError(dir, 'another run claimed this folder meanwhile; choose another --out');
    throw new OutputFolderError(csvPath, `cannot create it (${fsReason(error)})`);
  }
  return { dir, csvPath, manifestPath, csvFd };
}

const stillGoing = (dir: string, run: PreviousRun) =>
  new OutputFolderError(dir, `holds a run that is still going (pid ${run.pid} on this host); wait for it to end or stop it, or choose another --out`);

/** Takes the lock of the folder of a run (see lock.ts) for `nonce`, to resume that run. */
export function lockRunFolder(dir: string, nonce: string): FolderLock {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new OutputFolderError(dir, 'not found (expected the folder of a run)');
  return lockFolder(dir, nonce);
}

/**
 * The manifest of the run in `dir`, if that run can be resumed: it is pcsim's, and
 * neither completed nor still going (its process alive on this host; a run on
 * another host cannot be checked, as for --force). Throws OutputFolderError otherwise.
 */
export function resumableRun(dir: string): Manifest {
  const manifestPath = join(dir, manifestName);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new OutputFolderError(dir, 'not found (expected the folder of a run)');
  if (!lstatSync(manifestPath, { throwIfNoEntry: false })) throw new OutputFolderError(dir, `holds no run to resume (no ${manifestName})`);
  const previous = previousRun(manifestPath);
  if (previous === undefined || previous === 'foreign') throw new OutputFolderError(manifestPath, 'is not a pcsim manifest');
  if (previous.status === 'running' && isLiveHere(previous)) throw stillGoing(dir, previous);
  if (previous.status === 'completed') throw new OutputFolderError(dir, 'holds a completed run: there is nothing to resume');
  return previous as unknown as Manifest;
}

/**
 * Opens DIR/metrics.csv to continue a run: it must be a plain file (a symlink is not
 * followed) that starts with `header` and holds at least `bytes`; it is cut back to
 * `bytes`, the end of the last cycle a checkpoint counts. Returns its descriptor.
 */
export function reopenCsv(dir: string, header: string, bytes: number): number {
  const csvPath = join(dir, csvName);
  let fd: number;
  try {
    fd = openSync(csvPath, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (error) {
    throw new OutputFolderError(csvPath, errorCode(error) === 'ENOENT' ? 'not found: the rows before the checkpoint are gone, so the run cannot be resumed'
      : `cannot open it (${fsReason(error)})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new OutputFolderError(csvPath, 'is not a plain file');
    if (stats.size < bytes) throw new OutputFolderError(csvPath, `holds ${stats.size} bytes, fewer than the ${bytes} the checkpoint counts: rows are missing, so the run cannot be resumed`);
    const first = Buffer.alloc(Buffer.byteLength(header));
    readSync(fd, first, 0, first.length, 0);
    if (first.toString() !== header) throw new OutputFolderError(csvPath, "does not start with this run's header: it is not this run's metrics.csv");
    ftruncateSync(fd, bytes);
    return fd;
  } catch (error) {
    closeSync(fd);
    if (error instanceof OutputFolderError) throw error;
    throw new OutputFolderError(csvPath, `cannot cut it back to the checkpoint (${fsReason(error)})`);
  }
}

/** What a folder's manifest.json says, as far as claiming goes (all of it untrusted). */
interface PreviousRun {
  readonly status?: unknown;
  readonly cycles_completed?: unknown;
  readonly pid?: unknown;
  readonly host?: unknown;
  readonly scenario?: { readonly engine?: unknown };
}

/**
 * The manifest.json a folder holds: 'foreign' when it is a plain file that is not a
 * pcsim manifest (no `pcsim` version, no `run_id`), so not pcsim's to replace;
 * undefined when it is no plain file (a symlink is unlinked, never followed).
 */
function previousRun(manifestPath: string): PreviousRun | 'foreign' | undefined {
  try {
    const stats = lstatSync(manifestPath);
    // Only a plain, small file: a FIFO or device there would block or never end.
    if (!stats.isFile()) return undefined;
    if (stats.size > 1 << 20) return 'foreign';
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
    if (typeof manifest !== 'object' || manifest === null) return 'foreign';
    const { pcsim, run_id: runId } = manifest as { pcsim?: unknown; run_id?: unknown };
    return typeof pcsim === 'string' && typeof runId === 'string' ? manifest as PreviousRun : 'foreign';
  } catch {
    return 'foreign';
  }
}

/** The run's process is alive on this host (a run from another host, or from before pid/host were recorded, cannot be checked). */
function isLiveHere(run: PreviousRun): boolean {
  if (run.host !== hostname() || typeof run.pid !== 'number' || !Number.isInteger(run.pid) || run.pid <= 0) return false;
  try {
    process.kill(run.pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** "completed, 50 cycles" from the manifest of the run a folder holds. */
function runSummary(manifest: PreviousRun): string | undefined {
  const { status, cycles_completed: cycles } = manifest;
  const units = manifest.scenario?.engine === 'event' ? 'periods' : 'cycles';
  return typeof status === 'string' && typeof cycles === 'number' ? `${status}, ${cycles} ${units}` : undefined;
}

/** Gives back a claim that could not be completed: closes and removes the new, empty CSV, and the lock. */
export function releaseClaim(claim: ClaimedFolder): void {
  try { closeSync(claim.csvFd); } catch { /* already closed */ }
  try { unlinkSync(claim.csvPath); } catch { /* already gone */ }
  claim.lock.release();
}

/**
 * `mkdir -p` that fails instead of looping: Node's recursive mkdirSync retries
 * forever when mkdir says ENOENT under an existing folder (as in /proc), so the
 * missing folders are found by walking up and created one at a time.
 */
export function ensureFolder(dir: string): void {
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    let stats: Stats;
    try {
      stats = statSync(current);
    } catch (error) {
      const code = errorCode(error);
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(current) !== current) {
        missing.push(current);
        continue;
      }
      throw new OutputFolderError(dir, `cannot use this folder: ${current}: ${fsReason(error)}`);
    }
    if (!stats.isDirectory()) {
      throw new OutputFolderError(dir, missing.length === 0 ? 'is a file, not a folder' : `cannot create this folder: ${current} is a file`);
    }
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if (errorCode(error) === 'EEXIST' && statSync(folder, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new OutputFolderError(dir, `cannot create the folder ${folder} (${fsReason(error)})`);
    }
  }
}
