import { createHash } from 'node:crypto';
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
 *   16  the SHA-256 of the header's H bytes (32 bytes)
 *   48  header: H bytes of UTF-8 JSON (CheckpointHeader), then zero bytes up to a multiple of 8
 *   D   data: each section's bytes at D + its `offset` (a multiple of 8), zero bytes between
 *   D + data_bytes   end marker: the 8 bytes "PCSIMEND", then the file's total length (uint64)
 *
 * The header lists each section's SHA-256. A file shorter than its header says, or
 * without the end marker where the header puts it, was cut short (a crash while
 * copying it, a full disk); one whose header or a section does not match its SHA-256
 * is damaged: either is refused, never used.
 */

export const checkpointName = 'checkpoint';
const tempName = 'checkpoint.tmp';
/** The layout above; a change to it or to the header's meaning gets a new number. */
export const checkpointFormat = 2;

const magic = Buffer.from('PCSIMCKP', 'latin1');
const endMagic = Buffer.from('PCSIMEND', 'latin1');
const digestBytes = 32;
const prefixBytes = 16 + digestBytes;
const endBytes = 16;
/**
 * Sections are hashed and written (read and hashed) in pieces of this size: each is
 * hashed while it is still in the processor's cache, and no section is copied.
 */
const chunkBytes = 4 << 20;
/** A header is a scenario and a list of sections: anything near this is not one. */
const maxHeaderBytes = 256 * (1 << 20);
/** Stands for a section's SHA-256 until it is known: the same length, so the header's length is known before. */
const digestPlaceholder = '0'.repeat(2 * digestBytes);

/** The largest --checkpoint-every: more cycles than any run has (a run is at most 2^31 cycles or 2^50 ms). */
export const maxCheckpointEvery = 2 ** 50;

/** Throws the one error of a --checkpoint-every that is not a whole number of cycles from 1 to 2^50. */
export function checkCheckpointEvery(every: number | undefined): void {
  if (every === undefined) return;
  if (!Number.isSafeInteger(every) || every < 1 || every > maxCheckpointEvery) {
    throw new ScenarioError('', `expected a whole number of cycles from 1 to 2^50, found ${every}`, '--checkpoint-every');
  }
}

/** Where the run stood, and what it was: enough to check a resume against. */
export interface CheckpointRun {
  /** The pcsim version and build (see version.ts) that wrote the checkpoint: only the same build resumes it. */
  readonly pcsim: string;
  readonly build: string;
  readonly node: string;
  readonly run_id: string;
  /** The scenario file, absolute: it is loaded again on resume, with `set` and `seed`. */
  readonly file: string;
  /** The `--set` overrides, `key.path=value`, in order. */
  readonly set: readonly string[];
  /** `--seed`, or null when the scenario's own seed was used. */
  readonly seed: number | null;
  /** The SHA-256 of each file the run reads besides the scenario (plug-ins, traces; null: unreadable), by absolute path. */
  readonly inputs: Readonly<Record<string, string | null>>;
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
  /** Of its `length` bytes, in hex. */
  readonly sha256: string;
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
 * whole. Section bytes are hashed and written from where they are (no copy), a few
 * MiB at a time; the header, which holds their SHA-256, is written last, at the front.
 * Returns the file's length.
 */
export function writeCheckpoint(dir: string, run: CheckpointRun, sections: readonly Section[]): number {
  const entries: { -readonly [K in keyof SectionEntry]: SectionEntry[K] }[] = [];
  let dataBytes = 0;
  for (const { name, type, bytes } of sections) {
    entries.push({ name, type, offset: dataBytes, length: bytes.byteLength, sha256: digestPlaceholder });
    dataBytes = align8(dataBytes + bytes.byteLength);
  }
  const header: CheckpointHeader = { ...run, format: checkpointFormat, data_bytes: dataBytes, sections: entries };
  const headerBytes = Buffer.byteLength(JSON.stringify(header));
  const dataStart = align8(prefixBytes + headerBytes);
  const total = dataStart + dataBytes + endBytes;
  const end = Buffer.alloc(endBytes);
  endMagic.copy(end, 0);
  end.writeBigUInt64LE(BigInt(total), 8);

  const temp = join(dir, tempName);
  // Never written through a symlink or over another file: a fresh file, created here.
  try { unlinkSync(temp); } catch { /* none left over */ }
  const fd = openSync(temp, 'wx');
  try {
    for (let i = 0; i < sections.length; i++) entries[i].sha256 = writeHashed(fd, sections[i].bytes, dataStart + entries[i].offset);
    // The zero padding after the last section, if any, then the end marker.
    writeAll(fd, end, dataStart + dataBytes);
    const json = Buffer.from(JSON.stringify(header));
    if (json.length !== headerBytes) throw new Error(`a checkpoint header changed length as its checksums were filled in (${headerBytes} to ${json.length} bytes)`);
    const head = Buffer.alloc(dataStart);
    magic.copy(head, 0);
    head.writeUInt32LE(checkpointFormat, 8);
    head.writeUInt32LE(json.length, 12);
    createHash('sha256').update(json).digest().copy(head, 16);
    json.copy(head, prefixBytes);
    writeAll(fd, head, 0);
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

/** Writes all of `bytes` at `position`, hashing each piece just before it is written; returns the SHA-256 in hex. */
function writeHashed(fd: number, bytes: Uint8Array, position: number): string {
  const hash = createHash('sha256');
  for (let done = 0; done < bytes.byteLength;) {
    const length = Math.min(chunkBytes, bytes.byteLength - done);
    hash.update(bytes.subarray(done, done + length));
    for (let written = 0; written < length;) written += writeSync(fd, bytes, done + written, length - written, position + done + written);
    done += length;
  }
  return hash.digest('hex');
}

/** Writes all of `bytes` at `position`. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength;) done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

/** Flushes a folder's entries to disk: makes a rename in it durable (where the system allows syncing a folder). */
export function syncFolder(dir: string): void {
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

/** Who may resume a checkpoint: the pcsim version and build that wrote it. */
export interface CheckpointWriter {
  readonly pcsim: string;
  readonly build: string;
}

/**
 * An open checkpoint whose framing and header were checked. Its sections are read
 * from the descriptor that was checked (never the path again, which another process
 * may have replaced meanwhile).
 */
export interface CheckpointFile {
  readonly path: string;
  readonly header: CheckpointHeader;
  /** The file's length. */
  readonly bytes: number;
  /**
   * Reads every section (each into memory of its own), checking each against its
   * SHA-256 as it is read, then closes the file. Throws CheckpointError on a section
   * that does not match.
   */
  readSections(): Section[];
  /** Closes the file; needed only when its sections are not read. */
  close(): void;
}

/**
 * Opens `path` and checks that it is a whole pcsim checkpoint of a format this pcsim
 * reads, with a header that matches its SHA-256, and (when `writer` is given) that
 * this version and build of pcsim wrote it. Throws CheckpointError (one line naming
 * the file) on anything else. The file stays open until its sections are read or it
 * is closed.
 */
export function openCheckpoint(path: string, writer?: CheckpointWriter): CheckpointFile {
  const fail = (detail: string): never => { throw new CheckpointError(path, detail); };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'not found' : `cannot read it (${(error as Error).message.split(', ')[0]})`);
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) fail('is not a pcsim checkpoint (not a plain file)');
    const size = stats.size;
    const prefix = readAt(fd, 0, Math.min(prefixBytes, size));
    if (prefix.length < magic.length || !prefix.subarray(0, magic.length).equals(magic)) fail('is not a pcsim checkpoint');
    if (size < 16) fail(`is truncated (${size} bytes)`);
    const format = prefix.readUInt32LE(8);
    if (format !== checkpointFormat) fail(`has checkpoint format version ${format}; this pcsim reads version ${checkpointFormat}`);
    if (size < prefixBytes) fail(`is truncated (${size} bytes)`);
    const headerLength = prefix.readUInt32LE(12);
    if (headerLength > maxHeaderBytes) fail(`is damaged (a header of ${headerLength} bytes)`);
    if (prefixBytes + headerLength > size) fail(`is truncated (${size} bytes, within its header)`);
    const json = readAt(fd, prefixBytes, headerLength);
    if (!createHash('sha256').update(json).digest().equals(prefix.subarray(16, prefixBytes))) fail('is damaged (its header does not match its checksum)');
    let header: CheckpointHeader;
    try {
      header = JSON.parse(json.toString('utf8')) as CheckpointHeader;
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
    if (writer !== undefined) checkWriter(header, writer, fail);
    return {
      path,
      header,
      bytes: size,
      readSections: () => {
        if (!open) throw new Error(`${path}: its sections were read already, or it was closed`);
        try {
          return readSections(fd, header, dataStart, fail);
        } finally {
          close();
        }
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/** Only the version and build that wrote a checkpoint resume it: another build's state may mean something else. */
function checkWriter(header: CheckpointHeader, writer: CheckpointWriter, fail: (detail: string) => never): void {
  if (header.pcsim !== writer.pcsim) {
    fail(`was written by pcsim ${header.pcsim}; this is pcsim ${writer.pcsim}, which cannot resume it (use pcsim ${header.pcsim})`);
  }
  if (header.build !== writer.build) {
    const written = typeof header.build === 'string' ? shortBuild(header.build) : 'unknown';
    fail(`was written by another build of pcsim ${header.pcsim} (build ${written}; this is build ${shortBuild(writer.build)}), which alone can resume it`);
  }
}

/** The first 12 hex digits of a build id: enough to tell builds apart in a message. */
export const shortBuild = (build: string) => build.slice(0, 12);

function readSections(fd: number, header: CheckpointHeader, dataStart: number, fail: (detail: string) => never): Section[] {
  return header.sections.map(({ name, type, offset, length, sha256 }) => {
    const bytes = Buffer.allocUnsafe(length);
    const hash = createHash('sha256');
    for (let done = 0; done < length;) {
      const piece = Math.min(chunkBytes, length - done);
      for (let got = 0; got < piece;) {
        const read = readSync(fd, bytes, done + got, piece - got, dataStart + offset + done + got);
        if (read === 0) fail(`is truncated (it ends within section "${name}")`);
        got += read;
      }
      hash.update(bytes.subarray(done, done + piece));
      done += piece;
    }
    if (hash.digest('hex') !== sha256) fail(`is damaged (section "${name}" does not match its checksum)`);
    return { name, type, bytes };
  });
}

/** Exactly `length` bytes (at most 2 GiB) from `position`; fewer only at the end of the file. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, buffer, done, length - done, position + done);
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
  if (!Array.isArray(header.sections)) damaged('no sections in its header');
  const names = new Set<string>();
  let next = 0;
  for (const entry of header.sections) {
    const { name, type, offset, length, sha256 } = entry ?? {};
    if (typeof name !== 'string' || typeof type !== 'string' || names.has(name)) damaged('a bad section name in its header');
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) damaged(`no checksum for section "${name}" in its header`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset % 8 !== 0 || offset < next || length < 0 || offset + length > header.data_bytes) {
      damaged(`section "${name}" lies outside its data`);
    }
    names.add(name);
    next = offset + length;
  }
}
