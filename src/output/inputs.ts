import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Scenario } from '../engine/config.js';

/*
 * The files a run reads besides its scenario file: its plug-ins, and any file a
 * parameter names (a trace). A checkpoint records the SHA-256 of each, and a resume
 * refuses to go on when one changed: the state it restores was built from them. They
 * are found without knowing any type's parameters: every string in the resolved
 * scenario that names an existing file, relative to the scenario's folder, is one.
 * What a plug-in imports itself cannot be seen from here.
 */

/** Keys whose strings name things, not files. */
const notPaths = new Set(['dir', 'name', 'type']);
/** Longer strings are not paths (and would only slow the search). */
const maxPathLength = 4096;

/** The absolute paths of the files the run reads, sorted. */
export function inputFiles(scenario: Scenario): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (notPaths.has(key) || value === '' || value.length > maxPathLength || value.includes('\0')) return;
      const path = resolve(scenario.dir, value);
      if (isFile(path)) found.add(path);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
    } else if (value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) visit(item, name);
    }
  };
  visit(scenario, '');
  return [...found].sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The SHA-256 of each file the run reads, by absolute path. */
export function inputDigests(scenario: Scenario): Record<string, string | null> {
  return Object.fromEntries(inputFiles(scenario).map((file) => [file, fileDigest(file)]));
}

/** The SHA-256 of a file's content in hex, read a piece at a time; null when it cannot be read. */
export function fileDigest(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, read));
    return hash.digest('hex');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
