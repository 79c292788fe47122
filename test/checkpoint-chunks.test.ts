import { describe, expect, it, vi } from 'vitest';
import { tempDir } from './helpers.js';

/** Every write of a large buffer is recorded and not made (the test would need gigabytes of disk). */
const writes: { buffer: Uint8Array; offset: number; length: number; position: number }[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => {
    if (buffer.byteLength < 1 << 20) return (fs.writeSync as (...args: unknown[]) => number)(fd, buffer, offset, length, position);
    writes.push({ buffer, offset, length, position });
    return length;
  };
  return { ...fs, writeSync, default: { ...fs, writeSync } };
});
/** What is hashed from a large buffer is recorded, not hashed (seconds of work for a test of where the bytes come from). */
const hashed: Uint8Array[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  const createHash = (algorithm: string) => {
    const real = crypto.createHash(algorithm);
    const hash = {
      update(data: Uint8Array) {
        if (data.buffer.byteLength < 1 << 20) real.update(data);
        else hashed.push(data);
        return hash;
      },
      digest: (encoding?: 'hex') => (encoding ? real.digest(encoding) : real.digest()),
    };
    return hash;
  };
  return { ...crypto, createHash, default: { ...crypto, createHash } };
});
const { writeCheckpoint } = await import('../src/output/checkpoint.js');

describe('writing a checkpoint', () => {
  it('hashes and writes a section larger than 1 GiB from its own memory, in pieces that cover it all, with no copy', () => {
    // Never touched, so never backed by memory.
    const big = new Uint8Array(2.5 * 2 ** 30);
    const run = {
      pcsim: '0', build: '0', node: '', run_id: 'x', file: '/x.yaml', set: [], seed: null, inputs: {}, scenario: {},
      cycle: 1, simulated_time_ms: 0, events_processed: 0, csv_bytes: 0, written: '',
    };
    writeCheckpoint(tempDir(), run, [{ name: 'big', type: 'Uint8Array', bytes: big }]);
    expect(writes.every((write) => write.buffer === big && write.length <= 2 ** 30)).toBe(true);
    let next = 0;
    for (const { offset, length } of writes) {
      expect(offset).toBe(next);
      next += length;
    }
    expect(next).toBe(big.byteLength);
    expect(writes.map((write) => write.position - writes[0].position)).toEqual(writes.map((write) => write.offset));
    // Hashed as views of the same memory, piece by piece as it is written.
    expect(hashed.every((piece) => piece.buffer === big.buffer)).toBe(true);
    expect(hashed.map((piece) => piece.byteOffset)).toEqual(writes.map((write) => write.offset));
    expect(hashed.reduce((sum, piece) => sum + piece.byteLength, 0)).toBe(big.byteLength);
  });
});
