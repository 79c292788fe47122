import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../src/run.js';
import { runCommand } from '../src/run-command.js';
import { internalStack } from '../src/engine/describe-error.js';
import { ScenarioError } from '../src/engine/errors.js';
import { writeFaultyPlugin } from './faulty-plugin.js';
import { scenarioFile, tempDir } from './helpers.js';

const base = {
  name: 'det', seed: 5, size: 2000, cycles: 12,
  attributes: { capacity: { dist: 'pareto', alpha: 2 } },
  protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
  observers: { overlay: { type: 'overlay', every: 3, sample: 100, sources: 2 } },
};
const small = {
  name: 'small', size: 100, cycles: 6,
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
  observers: { overlay: { type: 'overlay', sample: 10, sources: 0 } },
};

async function csvOf(scenario: Record<string, unknown>, options: { seed?: number; set?: string[] } = {}): Promise<string> {
  const dir = tempDir();
  await runScenario(scenarioFile(scenario), { ...options, out: dir });
  return readFileSync(join(dir, 'metrics.csv'), 'utf8');
}
const manifestIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const rowsIn = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trimEnd().split('\n').slice(1).map((line) => line.split(','));

/** A scenario using the faulty plug-in (test/faulty-plugin.ts), written next to it. */
function faultyScenario(extra: Record<string, unknown>): string {
  const file = scenarioFile({ ...small, plugins: ['./faulty.mjs'], ...extra });
  writeFaultyPlugin(join(file, '..'));
  return file;
}

describe('runs', () => {
  it('are byte-identical for the same scenario and seed', async () => {
    const first = await csvOf(base);
    expect(first.split('\n').length).toBeGreaterThan(30);
    expect(await csvOf(base)).toBe(first);
  });

  it('differ for another seed', async () => {
    expect(await csvOf(base, { seed: 6 })).not.toBe(await csvOf(base));
  });

  it('leave every other row unchanged when an observer is added', async () => {
    const without = await csvOf(base);
    const withMore = await csvOf({
      ...base,
      observers: { ...base.observers, second: { type: 'overlay', every: 1, sample: 500, sources: 5 } },
    });
    const rowsOf = (csv: string, observer: string) => csv.split('\n').filter((line) => line.split(',')[3] === observer);
    expect(rowsOf(withMore, 'overlay')).toEqual(rowsOf(without, 'overlay'));
    expect(rowsOf(withMore, 'second').length).toBeGreaterThan(0);
  });

  it('write tidy rows that name the run, including each --set override', async () => {
    const csv = await csvOf(base, { set: ['protocols.cyclon.shuffle=3'] });
    const [header, first] = csv.split('\n');
    expect(header).toBe('scenario,seed,protocols.cyclon.shuffle,cycle,observer,metric,value');
    expect(first).toBe('det,5,3,0,overlay,live,2000');
  });

  it('write a manifest with the resolved scenario and a completed status', async () => {
    const dir = tempDir();
    await runScenario(scenarioFile(base), { out: dir });
    const manifest = manifestIn(dir);
    expect(manifest.status).toBe('completed');
    expect(manifest.cycles_completed).toBe(12);
    expect(manifest.run_id).toMatch(/^[0-9a-f]{8}$/);
    expect(manifest.csv_bytes).toBe(readFileSync(join(dir, 'metrics.csv')).length);
    expect(manifest.interrupted_by).toBeNull();
    expect(manifest.error).toBeNull();
    expect(manifest.scenario.protocols.cyclon.params).toEqual({
      cache: 10, shuffle: 4, init: { topology: 'random' }, join: { contacts: 1 }, ageing: 'initiator', duplicates: 'before-merge', busy: 'answer',
    });
    expect(manifest.scenario.observers.overlay.schedule).toEqual({ every: 3, from: 0, final: false });
    expect(manifest.node).toBe(process.version);
    expect(manifest.peak_rss_bytes).toBeGreaterThan(0);
    expect(manifest.wall_seconds).toBeGreaterThanOrEqual(manifest.setup_seconds);
    expect(typeof manifest.started).toBe('string');
    expect(manifest).toMatchObject({ pid: process.pid, host: expect.any(String), nonce: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // No --checkpoint-every, and a run that completes: no checkpoint.
    expect(manifest).toMatchObject({ checkpoint_every: null, checkpoint: null, resumes: [] });
    expect(existsSync(join(dir, 'checkpoint'))).toBe(false);
  });

  it('stop after the current cycle when shouldStop() says so, keeping every finished cycle', async () => {
    const dir = tempDir();
    let asked = 0;
    const result = await runScenario(scenarioFile(small), { out: dir, shouldStop: () => ++asked > 3 && 'SIGTERM' });
    expect(result.status).toBe('interrupted');
    const manifest = manifestIn(dir);
    expect(manifest).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', cycles_completed: 3, error: null, checkpoint: { cycle: 3 } });
    expect(rowsIn(dir).at(-1)![2]).toBe('3');
  });
});

describe('output folders', () => {
  it('refuse a second run into a folder holding one, leaving the first as it was', async () => {
    const dir = tempDir();
    const file = scenarioFile(small);
    await runScenario(file, { out: dir });
    const before = [readFileSync(join(dir, 'metrics.csv')), readFileSync(join(dir, 'manifest.json'))];
    await expect(runScenario(file, { out: dir, set: ['cycles=2'] })).rejects.toThrow(ScenarioError);
    await expect(runScenario(file, { out: dir })).rejects.toThrow(`${dir}: holds a run already (metrics.csv, manifest.json: completed, 6 cycles); pass --force to replace it, or choose another --out`);
    expect([readFileSync(join(dir, 'metrics.csv')), readFileSync(join(dir, 'manifest.json'))]).toEqual(before);
  });

  it('are replaced with force', async () => {
    const dir = tempDir();
    const file = scenarioFile(small);
    await runScenario(file, { out: dir });
    await runScenario(file, { out: dir, set: ['cycles=2'], force: true });
    expect(manifestIn(dir)).toMatchObject({ status: 'completed', cycles_completed: 2, overrides: { cycles: '2' } });
    expect(rowsIn(dir).at(-1)![3]).toBe('2');
  });

  it('keep a completed run from an interrupted or crashing rerun', async () => {
    const dir = tempDir();
    await runScenario(scenarioFile(small), { out: dir });
    const before = readFileSync(join(dir, 'metrics.csv'));
    await expect(runScenario(scenarioFile(small), { out: dir, shouldStop: () => 'SIGINT' })).rejects.toThrow('holds a run already');
    await expect(runScenario(faultyScenario({ observers: { h: { type: 'halfway', at: 0 } } }), { out: dir })).rejects.toThrow('holds a run already');
    expect(readFileSync(join(dir, 'metrics.csv'))).toEqual(before);
    expect(manifestIn(dir).status).toBe('completed');
  });

  it('hold a failed manifest with the error when setup fails (a plug-in throwing in create or init)', async () => {
    for (const where of ['create', 'init']) {
      const dir = tempDir();
      await expect(runScenario(faultyScenario({ protocols: { ...small.protocols, bad: { type: 'explode', in: where } } }), { out: dir }))
        .rejects.toThrow(`explode: ${where} failed`);
      const manifest = manifestIn(dir);
      expect(manifest.status).toBe('failed');
      expect(manifest.error).toContain(`explode: ${where} failed`);
      expect(manifest.error.split('\n')).toHaveLength(1);
      expect(manifest.cycles_completed).toBe(0);
      expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('keep only whole cycles when an observer throws mid-cycle', async () => {
    const dir = tempDir();
    const file = faultyScenario({ observers: { ...small.observers, half: { type: 'halfway', at: 3 } } });
    await expect(runScenario(file, { out: dir })).rejects.toThrow('halfway: observer failed');
    const manifest = manifestIn(dir);
    expect(manifest).toMatchObject({ status: 'failed', cycles_completed: 2 });
    expect(manifest.error).toContain('halfway: observer failed');
    const rows = rowsIn(dir);
    // Cycles 0-2, each whole: as many rows as the others, both of the observer's included.
    const perCycle = [0, 1, 2, 3].map((c) => rows.filter((row) => row[2] === String(c)).length);
    expect(perCycle[0]).toBeGreaterThan(2);
    expect(perCycle).toEqual([perCycle[0], perCycle[0], perCycle[0], 0]);
    expect(rows.filter((row) => row[3] === 'half').map((row) => row[4])).toEqual(['first', 'second', 'first', 'second', 'first', 'second']);
  });

  it('write nothing when the scenario itself is bad', async () => {
    const dir = join(tempDir(), 'out');
    await expect(runScenario(scenarioFile({ ...small, size: -1 }), { out: dir })).rejects.toThrow(ScenarioError);
    expect(() => readFileSync(join(dir, 'manifest.json'))).toThrow();
  });

  it('do not follow a metrics.csv symlink, even with force', async () => {
    const dir = tempDir();
    const target = join(tempDir(), 'precious.txt');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(dir, 'metrics.csv'));
    await expect(runScenario(scenarioFile(small), { out: dir })).rejects.toThrow('holds a run already (metrics.csv)');
    await runScenario(scenarioFile(small), { out: dir, force: true });
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(rowsIn(dir).length).toBeGreaterThan(10);
  });
});

describe('pcsim run', () => {
  it('refuses a --grace that is not a number of seconds from 0 to a day, before running anything', async () => {
    for (const grace of [-1, Number.NaN, Infinity, 2 ** 31, 86_401]) {
      await expect(runCommand({ scenario: 'never-read.yaml', grace, progress: false })).rejects.toThrow(`--grace: expected a number of seconds from 0 to 86400, found ${grace}`);
    }
  });

  it('tells a bug in pcsim (an error thrown by its own code) from a plug-in\'s error or a failure of the system', () => {
    const own = fileURLToPath(new URL('../src/run.ts', import.meta.url));
    const thrownBy = (file: string, extra = {}) => Object.assign(new Error('boom'), { stack: `Error: boom\n    at f (${file}:3:7)`, ...extra });
    expect(internalStack(thrownBy(own))).toContain('run.ts:3:7');
    expect(internalStack(thrownBy('/elsewhere/plugin.mjs'))).toBeUndefined();
    expect(internalStack(thrownBy(own, { code: 'ENOSPC', syscall: 'write' }))).toBeUndefined();
    expect(internalStack('a string')).toBeUndefined();
  });
});
