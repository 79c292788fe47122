import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../engine/state.js';
import { ScenarioError } from '../engine/errors.js';

/*
 * DIR/checkpoint: the whole state of a run between two cycles, from which `pcsim
 * resume` continues it. Layout (integers little-endian):
 *
 *   0   magic: the 8 bytes "PCSIMCKP"
 *   8   format version: uint32 (checkpointFormat)
 *   12  header length H: uint32
 *   16  header: H bytes of UTF-8 JSON (CheckpointHeader), then zero bytes up to a multiple of 8
 *   D   data: each section's bytes at D + its `offset` (a multiple of 8), zero bytes between
 *   D + data_bytes   end marker: the 8 bytes "PCSIMEND", then the file's total length (uint64)
 *
 * A file shorter than its header says, or without the end marker where the header puts
 * it, was cut short (a crash while copying it, a full disk): it is refused, never read.
 */

export const checkpointName = 'checkpoint';
const tempName = 'checkpoint.tmp';
/** The layout above; a change to it or to the header's meaning gets a new number. */
export const checkpointFormat = 1;

const magic = Buffer.from('PCSIMCKP', 'latin1');
const endMagic = Buffer.from('PCSIMEND', 'latin1');
const prefixBytes = 16;
const endBytes = 16;
/** Larger writes are split: write(2) moves at most ~2 GiB at once, and Node checks lengths against int32. */
const maxWriteBytes = 1 << 30;
/** A header is a scenario and a list of sections: anything near this is not one. */
const maxHeaderBytes = 256 * (1 << 20);

/** Where the run stood, and what it was: enough to check a resume against. */
export interface CheckpointRun {
  /** The pcsim version that wrote the checkpoint: only the same version resumes it. */
  readonly pcsim: string;
  readonly node: string;
  readonly run_id: string;
  /** The scenario file, absolute: it is loaded again on resume, with `set` and `seed`. */
  readonly file: string;
  /** The `--set` overrides, `key.path=value`, in order. */
  readonly set: readonly string[];
  /** `--seed`, or null when the scenario's own seed was used. */
  readonly seed: number | null;
  /** The SHA-256 of each plug-in file the scenario loads (null: unreadable), by absolute path. */
  readonly plugins: Readonly<Record<string, string | null>>;
  /** The resolved scenario (as in the manifest). */
  readonly scenario: unknown;
  /** Cycles (event engine: periods) completed. */
  readonly cycle: number;
  readonly simulated_time_ms: number;
  readonly events_processed: number;
  /** Length of metrics.csv holding exactly `cycle` whole cycles: a resume cuts it back to this and appends. */
  readonly csv_bytes: number;
  /** When it was written (ISO time). */
  readonly written: string;
}

export interface SectionEntry {
  readonly name: string;
  /** A typed array's constructor name, or `value` (node:v8 serialisation). */
  readonly type: string;
  /** From the start of the data. */
  readonly offset: number;
  readonly length: number;
}

/** The JSON header: the run, the format version again, and where each section is. */
export interface CheckpointHeader extends CheckpointRun {
  readonly format: number;
  readonly data_bytes: number;
  readonly sections: readonly SectionEntry[];
}

/** A checkpoint that cannot be used: bad input (one line, exit code 2) naming the file. */
export class CheckpointError extends ScenarioError {
  constructor(path: string, detail: string) {
    super('', detail, path);
    this.name = 'CheckpointError';
  }
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Writes DIR/checkpoint atomically: DIR/checkpoint.tmp is written, flushed to disk and
 * renamed over the old checkpoint, so a crash at any moment leaves the previous one
 * whole. Section bytes are written from where they are (no copy), at most 1 GiB per
 * call. Returns the file's length.
 */
export function writeCheckpoint(dir: string, run: CheckpointRun, sections: readonly Section[]): number {
  const entries: SectionEntry[] = [];
  let dataBytes = 0;
  for (const { name, type, bytes } of sections) {
    entries.push({ name, type, offset: dataBytes, length: bytes.byteLength });
    dataBytes = align8(dataBytes + bytes.byteLength);
  }
  const header: CheckpointHeader = { ...run, format: checkpointFormat, data_bytes: dataBytes, sections: entries };
  const json = Buffer.from(JSON.stringify(header));
  const dataStart = align8(prefixBytes + json.length);
  const total = dataStart + dataBytes + endBytes;

  const head = Buffer.alloc(dataStart);
  magic.copy(head, 0);
  head.writeUInt32LE(checkpointFormat, 8);
  head.writeUInt32LE(json.length, 12);
  json.copy(head, prefixBytes);
  const end = Buffer.alloc(endBytes);
  endMagic.copy(end, 0);
  end.writeBigUInt64LE(BigInt(total), 8);

  const temp = join(dir, tempName);
  // Never written through a symlink or over another file: a fresh file, created here.
  try { unlinkSync(temp); } catch { /* none left over */ }
  const fd = openSync(temp, 'wx');
  try {
    writeAll(fd, head, 0);
    for (let i = 0; i < sections.length; i++) writeAll(fd, sections[i].bytes, dataStart + entries[i].offset);
    // The zero padding after the last section, if any, then the end marker.
    writeAll(fd, end, dataStart + dataBytes);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try { unlinkSync(temp); } catch { /* the error below says what went wrong */ }
    throw error;
  }
  closeSync(fd);
  renameSync(temp, join(dir, checkpointName));
  syncFolder(dir);
  return total;
}

/** Writes all of `bytes` at `position`, in calls of at most 1 GiB (views, not copies). */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength;) {
    const length = Math.min(maxWriteBytes, bytes.byteLength - done);
    done += writeSync(fd, bytes, done, length, position + done);
  }
}

/** Makes the rename itself durable (where the system allows syncing a folder). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* not supported here: the rename is still atomic */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes a checkpoint.tmp left by a writer that was killed. */
export function removeCheckpointTemp(dir: string): void {
  try { unlinkSync(join(dir, tempName)); } catch { /* none */ }
}

/** An open checkpoint whose framing and header were checked; its sections are read on demand. */
export interface CheckpointFile {
  readonly path: string;
  readonly header: CheckpointHeader;
  /** The file's length. */
  readonly bytes: number;
  /** Reads every section (each into memory of its own). */
  readSections(): Section[];
}

/**
 * Opens `path` and checks that it is a whole pcsim checkpoint of a format this pcsim
 * reads, and (when `pcsimVersion` is given) that this version of pcsim wrote it.
 * Throws CheckpointError (one line naming the file) on anything else.
 */
export function openCheckpoint(path: string, pcsimVersion?: string): CheckpointFile {
  const fail = (detail: string): never => { throw new CheckpointError(path, detail); };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'not found' : `cannot read it (${(error as Error).message.split(', ')[0]})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) fail('is not a pcsim checkpoint (not a plain file)');
    const size = stats.size;
    const prefix = readAt(fd, 0, Math.min(prefixBytes, size));
    if (prefix.length < magic.length || !prefix.subarray(0, magic.length).equals(magic)) fail('is not a pcsim checkpoint');
    if (size < prefixBytes) fail(`is truncated (${size} bytes)`);
    const format = prefix.readUInt32LE(8);
    if (format !== checkpointFormat) fail(`has checkpoint format version ${format}; this pcsim reads version ${checkpointFormat}`);
    const headerLength = prefix.readUInt32LE(12);
    if (headerLength > maxHeaderBytes) fail(`is damaged (a header of ${headerLength} bytes)`);
    if (prefixBytes + headerLength > size) fail(`is truncated (${size} bytes, within its header)`);
    let header: CheckpointHeader;
    try {
      header = JSON.parse(readAt(fd, prefixBytes, headerLength).toString('utf8')) as CheckpointHeader;
    } catch {
      return fail('is damaged (its header is not JSON)');
    }
    checkHeader(header, fail);
    const dataStart = align8(prefixBytes + headerLength);
    const expected = dataStart + header.data_bytes + endBytes;
    if (size < expected) fail(`is truncated (${size} of ${expected} bytes)`);
    const end = readAt(fd, dataStart + header.data_bytes, endBytes);
    if (!end.subarray(0, endMagic.length).equals(endMagic) || end.readBigUInt64LE(8) !== BigInt(expected)) fail('is damaged (no end marker where its header puts it)');
    if (size > expected) fail(`is damaged (${size - expected} bytes after its end marker)`);
    if (pcsimVersion !== undefined && header.pcsim !== pcsimVersion) {
      fail(`was written by pcsim ${header.pcsim}; this is pcsim ${pcsimVersion}, which cannot resume it (use pcsim ${header.pcsim})`);
    }
    return {
      path,
      header,
      bytes: size,
      readSections: () => readSections(path, header, dataStart),
    };
  } finally {
    closeSync(fd);
  }
}

function readSections(path: string, header: CheckpointHeader, dataStart: number): Section[] {
  const fd = openSync(path, 'r');
  try {
    return header.sections.map(({ name, type, offset, length }) => ({ name, type, bytes: readAt(fd, dataStart + offset, length) }));
  } finally {
    closeSync(fd);
  }
}

/** Exactly `length` bytes from `position`, in reads of at most 1 GiB; fewer only at the end of the file. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, Math.min(maxWriteBytes, length - done), position + done);
    if (read === 0) break;
    done += read;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

/** The header's shape: what a resume relies on, so a damaged header fails here and not halfway through. */
function checkHeader(header: CheckpointHeader, fail: (detail: string) => never): void {
  const damaged = (what: string) => fail(`is damaged (${what})`);
  if (header === null || typeof header !== 'object') damaged('its header is not an object');
  for (const key of ['pcsim', 'run_id', 'file', 'written'] as const) if (typeof header[key] !== 'string') damaged(`no ${key} in its header`);
  for (const key of ['cycle', 'csv_bytes', 'data_bytes', 'simulated_time_ms', 'events_processed'] as const) {
    if (!Number.isSafeInteger(header[key]) || header[key] < 0) damaged(`no ${key} in its header`);
  }
  if (header.seed !== null && !Number.isSafeInteger(header.seed)) damaged('a bad seed in its header');
  if (!Array.isArray(header.set) || header.set.some((entry) => typeof entry !== 'string')) damaged('bad --set overrides in its header');
  if (header.plugins === null || typeof header.plugins !== 'object') damaged('no plugins in its header');
  if (!Array.isArray(header.sections)) damaged('no sections in its header');
  const names = new Set<string>();
  let next = 0;
  for (const entry of header.sections) {
    const { name, type, offset, length } = entry ?? {};
    if (typeof name !== 'string' || typeof type !== 'string' || names.has(name)) damaged('a bad section name in its header');
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset % 8 !== 0 || offset < next || length < 0 || offset + length > header.data_bytes) {
      damaged(`section "${name}" lies outside its data`);
    }
    names.add(name);
    next = offset + length;
  }
}
