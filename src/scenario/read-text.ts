import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';

/** Why a text file could not be read: `reason` is one phrase for the user, `line` where the bad byte is. */
export class UnreadableFile extends Error {
  constructor(readonly reason: string, readonly line?: number) {
    super(reason);
    this.name = 'UnreadableFile';
  }
}

/**
 * Reads a UTF-8 text file that the user named (a scenario, a trace). Never blocks and
 * never reads without bound: the path is opened non-blocking and must be a regular
 * file (a FIFO, a device or a directory is refused before any read), at most
 * `maxBytes` long. A UTF-8 byte order mark is dropped; other bytes that are not
 * UTF-8 are refused with the line they are on.
 */
export function readTextFile(path: string, maxBytes: number): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new UnreadableFile(openProblem(error as NodeJS.ErrnoException));
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnreadableFile(`expected a regular file, found ${kindOf(stats)}`);
    if (stats.size > maxBytes) throw new UnreadableFile(tooLarge(stats.size, maxBytes));
    return decode(readAll(fd, stats.size, maxBytes));
  } finally {
    closeSync(fd);
  }
}

/** Reads to the end: the size from fstat may be stale (a growing file) or 0 (files under /proc). */
function readAll(fd: number, sizeHint: number, maxBytes: number): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(sizeHint + 1, 4096)));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) break;
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    let read: number;
    try {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    } catch (error) {
      throw new UnreadableFile(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (read === 0) break;
    length += read;
  }
  if (length > maxBytes) throw new UnreadableFile(tooLarge(length, maxBytes));
  return buffer.subarray(0, length);
}

function decode(bytes: Buffer): string {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new UnreadableFile('not UTF-8 text (it is UTF-16: save it as UTF-8)', 1);
  }
  const body = bytes.subarray(start);
  if (!isUtf8(body)) {
    const at = firstInvalidByte(body);
    throw new UnreadableFile(`not UTF-8 text (byte 0x${body[at].toString(16).padStart(2, '0')} at line ${lineAt(body, at)})`, lineAt(body, at));
  }
  return body.toString('utf8');
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return Math.max(0, bytes.length - 1);
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'something else';
}

function openProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT': return 'file not found';
    case 'EACCES': case 'EPERM': return 'cannot read the file (permission denied)';
    case 'EISDIR': return 'expected a regular file, found a directory';
    case 'ENOTDIR': return 'file not found (a part of the path is not a folder)';
    case 'ELOOP': return 'cannot read the file (too many symbolic links)';
    case 'ENAMETOOLONG': return 'cannot read the file (the path is too long)';
    case 'ENXIO': return 'expected a regular file, found a socket or device';
    default: return `cannot read the file (${error.code ?? error.message})`;
  }
}

const bytesText = (bytes: number) => `${bytes.toLocaleString('en-US')} bytes`;

function tooLarge(bytes: number, maxBytes: number): string {
  return `expected a file of at most ${bytesText(maxBytes)}, found ${bytes > maxBytes + 1 ? bytesText(bytes) : 'more'}`;
}
