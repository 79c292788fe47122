import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { scenarioFile, tempDir } from '../helpers.js';

/** Set to make every new temporary manifest fail as on a full disk. */
let diskFull = false;
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = (path: Parameters<typeof fs.openSync>[0], ...rest: unknown[]) => {
    if (diskFull && String(path).endsWith('.tmp')) throw Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC', syscall: 'open' });
    return (fs.openSync as (...args: unknown[]) => number)(path, ...rest);
  };
  return { ...fs, openSync, default: { ...fs, openSync } };
});
const { readManifest, writeManifest } = await import('../../src/output/manifest.js');
type Manifest = import('../../src/output/manifest.js').Manifest;

afterEach(() => { diskFull = false; });

const manifest = (status: Manifest['status'], cycles: number) => ({ pcsim: '0', run_id: 'x', status, cycles_completed: cycles, error: null }) as unknown as Manifest;

describe('writing the manifest', () => {
  it('on a full disk, rewrites the existing manifest in place', () => {
    const dir = tempDir();
    writeManifest(dir, manifest('running', 123456));
    diskFull = true;
    writeManifest(dir, manifest('failed', 7));
    expect(readManifest(dir)).toMatchObject({ status: 'failed', cycles_completed: 7 });
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(`${JSON.stringify(manifest('failed', 7), null, 2)}\n`);
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('on a full disk with no manifest yet, says so', () => {
    diskFull = true;
    expect(() => writeManifest(tempDir(), manifest('running', 0))).toThrow('ENOSPC');
  });
});

// A real full disk: a 64 KiB tmpfs, where mounting one is allowed (root on Linux).
const mountPoint = join(tempDir(), 'full');
mkdirSync(mountPoint);
const mounted = process.platform === 'linux' && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]).status === 0;

// Before helpers.ts removes the temporary folders (after-hooks run last registered first).
afterAll(() => { if (mounted) spawnSync('umount', [mountPoint]); });

describe.runIf(mounted)('pcsim run, on a disk that fills up', () => {
  it('fails with a manifest that says failed, naming the cause once', () => {
    const scenario = scenarioFile({
      name: 'small', size: 100, cycles: 400,
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      observers: { overlay: { type: 'overlay', sample: 10, sources: 0 } },
    });
    const out = join(mountPoint, 'a');
    const result = spawnSync(process.execPath, ['bin/pcsim.js', 'run', scenario, '--out', out], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.match(/ENOSPC/g)).toHaveLength(1);
    const written = readManifest(out);
    expect(written.status).toBe('failed');
    expect(written.error).toContain('ENOSPC');
    expect(Buffer.byteLength(readFileSync(join(out, 'metrics.csv')))).toBe(written.csv_bytes);
  });
});
