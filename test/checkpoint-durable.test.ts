import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writeTallyPlugin } from './checkpoint-plugin.js';
import { scenarioFile, tempDir } from './helpers.js';

/*
 * What a checkpoint does with the disk, seen through node:fs: the order in which files
 * reach it, and a periodic checkpoint that cannot be written (a full disk).
 */

/** Writes, flushes and renames, in order: `write metrics.csv`, `fsync checkpoint.tmp`, `rename checkpoint.tmp checkpoint`... */
const events: string[] = [];
/** Set to make writes to checkpoint.tmp fail as on a full disk. */
let diskFull = false;
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const names = new Map<number, string>();
  /** Temporary manifests are named after the process: one name for all of them. */
  const nameOf = (path: unknown) => basename(String(path)).replace(/^\.manifest\.json\..*\.tmp$/, 'manifest.tmp');
  const openSync = (path: string, ...rest: unknown[]) => {
    const fd = (fs.openSync as (...args: unknown[]) => number)(path, ...rest);
    names.set(fd, nameOf(path));
    return fd;
  };
  const writeSync = (fd: number, ...rest: unknown[]) => {
    if (diskFull && names.get(fd) === 'checkpoint.tmp') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    events.push(`write ${names.get(fd)}`);
    return (fs.writeSync as (...args: unknown[]) => number)(fd, ...rest);
  };
  const fsyncSync = (fd: number) => {
    events.push(`fsync ${names.get(fd)}`);
    return fs.fsyncSync(fd);
  };
  const renameSync = (from: string, to: string) => {
    events.push(`rename ${nameOf(from)} ${nameOf(to)}`);
    return fs.renameSync(from, to);
  };
  const mocked = { openSync, writeSync, fsyncSync, renameSync };
  return { ...fs, ...mocked, default: { ...fs, ...mocked } };
});
const { runScenario } = await import('../src/run.js');

function tallyFile(): string {
  const file = scenarioFile({
    name: 'tally-cycle', seed: 3, size: 300, cycles: 12, plugins: ['./tally.mjs'],
    protocols: { tally: { type: 'tally' } }, observers: { tally: { type: 'tally' } },
  });
  writeTallyPlugin(join(file, '..'));
  return file;
}
const manifestIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('a checkpoint', () => {
  it('is written after the rows it counts reach the disk, and before the manifest that names it, also flushed', async () => {
    const dir = tempDir();
    events.length = 0;
    await runScenario(tallyFile(), { out: dir, checkpointEvery: 4 });
    const renames = events.flatMap((event, i) => (event === 'rename checkpoint.tmp checkpoint' ? [i] : []));
    expect(renames).toHaveLength(2);
    for (const at of renames) {
      const before = events.slice(0, at);
      // metrics.csv flushed after its last write, and the checkpoint flushed, before the rename.
      expect(before.lastIndexOf('fsync metrics.csv')).toBeGreaterThan(before.lastIndexOf('write metrics.csv'));
      expect(before.lastIndexOf('fsync checkpoint.tmp')).toBeGreaterThan(before.lastIndexOf('write checkpoint.tmp'));
      // The manifest written next (the one that names the checkpoint) is flushed before it replaces the old one.
      const after = events.slice(at);
      expect(after.indexOf('fsync manifest.tmp')).toBeGreaterThan(0);
      expect(after.indexOf('fsync manifest.tmp')).toBeLessThan(after.indexOf('rename manifest.tmp manifest.json'));
      expect(after.slice(0, after.indexOf('rename manifest.tmp manifest.json'))).not.toContain('write metrics.csv');
    }
  });

  it('that cannot be written (a full disk) does not fail the run: said once, recorded, the previous one kept', async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const result = await runScenario(tallyFile(), {
      out: dir, checkpointEvery: 2,
      onCheckpoint: ({ cycle }) => { diskFull = cycle === 4 || cycle === 8 || cycle === 10; },
      onCheckpointEnd: () => { diskFull = false; },
      onWarning: (message) => warnings.push(message),
    });
    expect(result).toMatchObject({ status: 'completed', cycles: 12 });
    expect(warnings).toEqual([
      `no checkpoint at cycle 4: cannot write ${join(dir, 'checkpoint')} (ENOSPC: no space left on device); the run goes on (the checkpoint of cycle 2 stays; the manifest records the latest failure)`,
    ]);
    expect(manifestIn(dir)).toMatchObject({
      status: 'completed', error: null, checkpoint: { cycle: 6 },
      checkpoint_error: `no checkpoint at cycle 10: cannot write ${join(dir, 'checkpoint')} (ENOSPC: no space left on device)`,
    });
    expect(existsSync(join(dir, 'checkpoint.tmp'))).toBe(false);
    const { openCheckpoint } = await import('../src/output/checkpoint.js');
    const checkpoint = openCheckpoint(join(dir, 'checkpoint'));
    checkpoint.close();
    expect(checkpoint.header.cycle).toBe(6);
  });
});
