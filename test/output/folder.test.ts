import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimOutputFolder, OutputFolderError, releaseClaim } from '../../src/output/folder.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { scenarioFile, tempDir } from '../helpers.js';

/** The manifest of a run that ended (only what claiming looks at). */
const earlierManifest = JSON.stringify({ pcsim: '0.1.0', run_id: '0123abcd', status: 'completed', cycles_completed: 5, pid: 1, host: 'elsewhere' });

const claim = (dir: string, force = false) => {
  const claimed = claimOutputFolder(dir, force, randomUUID());
  closeSync(claimed.csvFd);
  claimed.lock.release();
  return claimed;
};

describe('claiming an output folder', () => {
  it('creates missing folders and a fresh, empty metrics.csv', () => {
    const dir = join(tempDir(), 'a', 'b', 'c');
    const claimed = claim(dir);
    expect(readFileSync(claimed.csvPath, 'utf8')).toBe('');
  });

  it('refuses a folder that holds a run, saying what to do, and leaves it as it was', () => {
    for (const name of ['metrics.csv', 'manifest.json']) {
      const dir = tempDir();
      writeFileSync(join(dir, name), name === 'manifest.json' ? earlierManifest : 'an earlier run');
      expect(() => claim(dir)).toThrow(OutputFolderError);
      expect(() => claim(dir)).toThrow(`${dir}: holds a run already (${name}${name === 'manifest.json' ? ': completed, 5 cycles' : ''}); pass --force to replace it, or choose another --out`);
      expect(readFileSync(join(dir, name), 'utf8')).toBe(name === 'manifest.json' ? earlierManifest : 'an earlier run');
    }
  });

  it('refuses a folder holding an unfinished run with a checkpoint, saying that pcsim resume continues it', () => {
    for (const status of ['interrupted', 'failed']) {
      const dir = tempDir();
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...JSON.parse(earlierManifest), status, cycles_completed: 12 }));
      writeFileSync(join(dir, 'checkpoint'), 'its checkpoint');
      expect(() => claim(dir)).toThrow(`${dir}: holds an unfinished run (manifest.json, checkpoint: ${status}, 12 cycles): pcsim resume ${dir} continues it from its checkpoint; --force replaces it, deleting the checkpoint; or choose another --out`);
      expect(readFileSync(join(dir, 'checkpoint'), 'utf8')).toBe('its checkpoint');
      expect(existsSync(join(dir, 'pcsim.lock'))).toBe(false);
    }
  });

  it('refuses, even with force, a folder whose manifest.json is not pcsim\'s, and leaves it', () => {
    for (const text of ['{"name": "other-project"}', 'not json', '{"pcsim": "0.1.0"}']) {
      const dir = tempDir();
      writeFileSync(join(dir, 'manifest.json'), text);
      for (const force of [false, true]) {
        expect(() => claim(dir, force)).toThrow(`${dir}: holds files pcsim did not write (manifest.json is not a pcsim manifest), which --force would not replace; choose another --out`);
      }
      expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(text);
      expect(existsSync(join(dir, 'metrics.csv'))).toBe(false);
    }
  });

  it('with force, replaces a run that says running when its process is gone', () => {
    const dir = tempDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...JSON.parse(earlierManifest), status: 'running', pid: gone, host: hostname() }));
    claim(dir, true);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });

  it('is an input error: one line, exit code 2', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'manifest.json'), '{}');
    expect(() => claim(dir)).toThrow(ScenarioError);
  });

  it('with force, replaces the run: the old files are unlinked and created fresh', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'metrics.csv'), 'old rows');
    writeFileSync(join(dir, 'manifest.json'), earlierManifest);
    const claimed = claim(dir, true);
    expect(readFileSync(claimed.csvPath, 'utf8')).toBe('');
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  });

  it('never writes through a symlink named metrics.csv', () => {
    const dir = tempDir();
    const target = join(tempDir(), 'precious.txt');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(dir, 'metrics.csv'));
    expect(() => claim(dir)).toThrow('holds a run already (metrics.csv)');
    claim(dir, true);
    expect(lstatSync(join(dir, 'metrics.csv')).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });

  it('gives back a claim it could not complete', () => {
    const dir = tempDir();
    releaseClaim(claimOutputFolder(dir, false, randomUUID()));
    expect(existsSync(join(dir, 'metrics.csv'))).toBe(false);
    expect(existsSync(join(dir, 'pcsim.lock'))).toBe(false);
  });

  it('says why an output path cannot be used, and never spins', () => {
    const base = tempDir();
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    mkdirSync(join(base, 'taken', 'metrics.csv'), { recursive: true });
    const cases: [string, string][] = [
      ['', 'expected a folder, found an empty path'],
      [file, `${file}: is a file, not a folder`],
      [join(file, 'below'), `cannot create this folder: ${file} is a file`],
      [join(base, 'taken'), 'metrics.csv: is a folder'],
    ];
    if (process.platform === 'linux') cases.push(['/proc/x', '/proc/x: cannot create the folder /proc/x (ENOENT']);
    if (process.getuid?.() !== 0) {
      const locked = join(base, 'locked');
      mkdirSync(locked, { mode: 0o555 });
      cases.push([locked, 'EACCES']);
      cases.push([join(locked, 'sub'), 'EACCES']);
    }
    for (const [dir, message] of cases) expect(() => claim(dir), dir).toThrow(message);
    chmodSync(base, 0o755);
  });
});

function pcsim(args: string[], shell?: string) {
  const result = shell
    ? spawnSync('bash', ['-c', `${shell}; exec "$0" "$@"`, process.execPath, 'bin/pcsim.js', ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, ['bin/pcsim.js', ...args], { encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr };
}

const small = { name: 'small', size: 100, cycles: 3, protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } }, observers: { overlay: { type: 'overlay', sample: 10, sources: 1 } } };

describe('pcsim run, on an unusable output path', () => {
  it('prints one line and exits with code 2, writing nothing', () => {
    const base = tempDir();
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const scenario = scenarioFile(small);
    const outs = [join(file, 'below'), ...(process.platform === 'linux' ? ['/proc/x'] : [])];
    for (const out of outs) {
      const result = pcsim(['run', scenario, '--out', out]);
      expect(result.code, out).toBe(2);
      expect(result.stderr.trimEnd().split('\n'), out).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\s+at /);
    }
  });

  it('fails with a manifest that says so when the disk fills up mid-run (exit 1), keeping whole cycles', () => {
    if (process.platform !== 'linux') return;
    const out = join(tempDir(), 'out');
    // A file size limit of 24 KiB: metrics.csv outgrows it after some cycles (the manifest stays smaller).
    const result = pcsim(['run', scenarioFile({ ...small, cycles: 2000 }), '--out', out], 'ulimit -f 24');
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('file too large');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(manifest.error).toContain(`cannot write ${join(out, 'metrics.csv')} (EFBIG`);
    const lines = readFileSync(join(out, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    const cycles = lines.slice(1).map((line) => Number(line.split(',')[2]));
    expect(manifest.cycles_completed).toBe(cycles.at(-1));
    expect(manifest.cycles_completed).toBeGreaterThan(5);
    // The last cycle is whole: as many rows as the first.
    expect(cycles.filter((c) => c === cycles.at(-1))).toHaveLength(cycles.filter((c) => c === 0).length);
    expect(Buffer.byteLength(readFileSync(join(out, 'metrics.csv'), 'utf8'))).toBe(manifest.csv_bytes);
  });
});
