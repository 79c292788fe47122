import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/engine/errors.js';
import { lockFolder, releaseFolderLock } from '../../src/output/lock.js';
import { tempDir } from '../helpers.js';

const holder = (pid: number, host = hostname(), nonce = 'theirs') => JSON.stringify({ pid, host, nonce, since: '2024-01-01T00:00:00.000Z' });
/** A pid no process has: above the largest Linux allows (2^22). */
const deadPid = () => 2 ** 22 + 1;

describe('the lock of a folder', () => {
  it('is taken by one claimant at a time, and given back', () => {
    const dir = tempDir();
    const first = lockFolder(dir, 'one');
    expect(JSON.parse(readFileSync(join(dir, 'pcsim.lock'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), nonce: 'one' });
    // Another claimant, in this very process too, is refused in one line naming the holder.
    const error = (() => { try { lockFolder(dir, 'two'); } catch (caught) { return caught; } })();
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toMatch(new RegExp(`^${dir}: is in use by another pcsim \\(pid ${process.pid} on this host, since [^)]+\\); wait for it to end$`));
    first.check();
    first.release();
    expect(existsSync(join(dir, 'pcsim.lock'))).toBe(false);
    lockFolder(dir, 'two').release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is broken when its holder is gone from this host', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pcsim.lock'), holder(deadPid()));
    const lock = lockFolder(dir, 'mine');
    expect(JSON.parse(readFileSync(join(dir, 'pcsim.lock'), 'utf8')).nonce).toBe('mine');
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is not broken when its holder is on another host, which cannot be checked; the message says what to do', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pcsim.lock'), holder(12345, 'elsewhere'));
    expect(() => lockFolder(dir, 'mine')).toThrow(`${dir}: is in use by another pcsim (pid 12345 on host elsewhere, since 2024-01-01T00:00:00.000Z); wait for it to end, or delete ${join(dir, 'pcsim.lock')} if it is gone`);
    writeFileSync(join(dir, 'pcsim.lock'), 'garbage');
    expect(() => lockFolder(dir, 'mine')).toThrow(`${join(dir, 'pcsim.lock')}: is not a pcsim lock; if no pcsim is using this folder, delete it`);
    expect(readdirSync(dir)).toEqual(['pcsim.lock']);
  });

  it('is given back only by its holder', () => {
    const dir = tempDir();
    const lock = lockFolder(dir, 'mine');
    releaseFolderLock(dir, 'another');
    lock.check();
    writeFileSync(join(dir, 'pcsim.lock'), holder(process.pid, hostname(), 'taken-over'));
    expect(() => lock.check()).toThrow('is in use by another pcsim');
    lock.release();
    expect(existsSync(join(dir, 'pcsim.lock'))).toBe(true);
  });
});
