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
const { writeCheckpoint } = await import('../src/output/checkpoint.js');

describe('writing a checkpoint', () => {
  it('writes a section larger than 1 GiB from its own memory, in calls of at most 1 GiB, covering it all', () => {
    // Never touched, so never backed by memory.
    const big = new Uint8Array(2.5 * 2 ** 30);
    const run = {
      pcsim: '0', node: '', run_id: 'x', file: '/x.yaml', set: [], seed: null, plugins: {}, scenario: {},
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
  });
});
