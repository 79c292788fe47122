import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fsReason, OutputFolderError } from './folder-error.js';

/*
 * DIR/pcsim.lock: the claim of the one pcsim (a run or a resume) that may change the
 * folder. It is created whole or not at all: written to a file of its own, then
 * hard-linked to its name, which fails when the name exists (atomic, on NFS too). It
 * holds the holder's pid, host and nonce; a lock whose pid is dead on this host is
 * stale and is broken by the next claimant. One from another host cannot be checked.
 */

export const lockName = 'pcsim.lock';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly nonce: string;
  /** When it was taken (ISO time). */
  readonly since: string;
}

export interface FolderLock {
  readonly path: string;
  readonly nonce: string;
  /** Throws OutputFolderError unless the lock is still this one (another claimant broke it as stale by mistake). */
  check(): void;
  /** Removes the lock if it is still this one. */
  release(): void;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * Takes DIR/pcsim.lock for `nonce`, breaking a stale one, and checks that it holds.
 * Throws OutputFolderError (one line, exit code 2) when another pcsim holds the
 * folder, naming it; nothing else in the folder is touched.
 */
export function lockFolder(dir: string, nonce: string): FolderLock {
  const path = join(dir, lockName);
  const mine: LockHolder = { pid: process.pid, host: hostname(), nonce, since: new Date().toISOString() };
  const lock: FolderLock = {
    path,
    nonce,
    check: () => {
      const holder = readHolder(path);
      if (typeof holder !== 'object' || holder.nonce !== nonce) throw busy(dir, path, holder);
    },
    release: () => releaseFolderLock(dir, nonce),
  };
  // A few rounds: each either takes the lock, finds it held, or breaks a stale one.
  for (let round = 0; round < 5; round++) {
    if (create(path, mine)) {
      lock.check();
      return lock;
    }
    const holder = readHolder(path);
    if (holder === 'gone') continue;
    if (holder === undefined || !isStale(holder)) throw busy(dir, path, holder);
    breakStale(path, holder, nonce);
  }
  throw busy(dir, path, readHolder(path));
}

/** Creates the lock with its content in one step; false when it exists already. */
function create(path: string, holder: LockHolder): boolean {
  const own = `${path}.${holder.nonce}`;
  try {
    writeFileSync(own, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') unlinkQuietly(own);
    throw new OutputFolderError(dirname(path), `cannot write in this folder (${fsReason(error)})`);
  }
  try {
    linkSync(own, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    if (!noHardLinks.has(errorCode(error) ?? '')) throw new OutputFolderError(path, `cannot create it (${fsReason(error)})`);
    return createInPlace(path, holder);
  } finally {
    unlinkQuietly(own);
  }
}

/** Where hard links are not supported (some network and FUSE file systems). */
const noHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** O_EXCL, then the content: a reader may see it empty for a moment, and takes that for a lock it cannot judge. */
function createInPlace(path: string, holder: LockHolder): boolean {
  try {
    writeFileSync(path, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new OutputFolderError(path, `cannot create it (${fsReason(error)})`);
  }
}

/**
 * Moves a stale lock aside (atomic), then makes sure it was that stale lock: if a
 * claimant took the folder meanwhile, its lock is put back (a link, which fails if yet
 * another one exists; that claimant's check then finds out).
 */
function breakStale(path: string, stale: LockHolder, nonce: string): void {
  const aside = `${path}.${nonce}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw new OutputFolderError(path, `cannot remove this stale lock (${fsReason(error)})`);
  }
  const moved = readHolder(aside);
  if (typeof moved === 'object' && moved.nonce !== stale.nonce) {
    try { linkSync(aside, path); } catch { /* another claimant holds the name now */ }
  }
  unlinkQuietly(aside);
}

/** The lock's holder; 'gone' when there is no lock; undefined when the file is not a pcsim lock. */
function readHolder(path: string): LockHolder | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return errorCode(error) === 'ENOENT' ? 'gone' : undefined;
  }
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    const { pid, host, nonce, since } = holder ?? {};
    if (Number.isSafeInteger(pid) && pid! > 0 && typeof host === 'string' && typeof nonce === 'string' && typeof since === 'string') return holder as LockHolder;
  } catch { /* not JSON */ }
  return undefined;
}

/** Its process is gone: on this host, with no process of that pid. */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === 'ESRCH';
  }
}

function busy(dir: string, path: string, holder: LockHolder | 'gone' | undefined): OutputFolderError {
  if (holder === undefined) return new OutputFolderError(path, 'is not a pcsim lock; if no pcsim is using this folder, delete it');
  if (holder === 'gone') return new OutputFolderError(dir, 'another pcsim claimed this folder meanwhile; wait for it to end, or choose another folder');
  const here = holder.host === hostname();
  const where = here ? 'on this host' : `on host ${holder.host}`;
  const unless = here ? '' : `, or delete ${path} if it is gone`;
  return new OutputFolderError(dir, `is in use by another pcsim (pid ${holder.pid} ${where}, since ${holder.since}); wait for it to end${unless}`);
}

function unlinkQuietly(path: string): void {
  try { unlinkSync(path); } catch { /* gone already */ }
}

/** Removes DIR/pcsim.lock if `nonce` holds it (the main thread, for a worker it had to end). */
export function releaseFolderLock(dir: string, nonce: string): void {
  const path = join(dir, lockName);
  const holder = readHolder(path);
  if (typeof holder === 'object' && holder.nonce === nonce) unlinkQuietly(path);
}
