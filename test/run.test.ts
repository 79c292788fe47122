import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run.js';
import { scenarioFile } from './helpers.js';

const base = {
  name: 'det', seed: 5, size: 2000, cycles: 12,
  attributes: { capacity: { dist: 'pareto', alpha: 2 } },
  protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
  observers: { overlay: { type: 'overlay', every: 3, sample: 100, sources: 2 } },
};
const outDir = () => mkdtempSync(join(tmpdir(), 'pcsim-run-'));

async function csvOf(scenario: Record<string, unknown>, options: { seed?: number; set?: string[] } = {}): Promise<string> {
  const dir = outDir();
  await runScenario(scenarioFile(scenario), { ...options, out: dir });
  return readFileSync(join(dir, 'metrics.csv'), 'utf8');
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
    const dir = outDir();
    await runScenario(scenarioFile(base), { out: dir });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('completed');
    expect(manifest.cycles_completed).toBe(12);
    expect(manifest.scenario.protocols.cyclon.params).toEqual({ cache: 10, shuffle: 4, init: { topology: 'random' }, join: { contacts: 1 } });
    expect(manifest.scenario.observers.overlay.schedule).toEqual({ every: 3, from: 0, final: false });
    expect(manifest.node).toBe(process.version);
    expect(manifest.peak_rss_bytes).toBeGreaterThan(0);
    expect(manifest.wall_seconds).toBeGreaterThanOrEqual(0);
    expect(typeof manifest.started).toBe('string');
  });

  it('keep every finished cycle on disk and say "interrupted" after Ctrl-C', async () => {
    const dir = outDir();
    const file = scenarioFile({ ...base, size: 20_000, cycles: 100_000, observers: { overlay: { type: 'overlay', sample: 10, sources: 0 } } });
    const child = spawn(process.execPath, ['bin/pcsim.js', 'run', file, '--out', dir], { stdio: 'ignore' });
    const csv = join(dir, 'metrics.csv');
    const deadline = Date.now() + 30_000;
    const rowsWritten = () => (existsSync(csv) ? readFileSync(csv, 'utf8').split('\n').length : 0);
    while (Date.now() < deadline && rowsWritten() < 40) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const lastCycle = Number(lines.at(-1)!.split(',')[2]);
    expect(manifest.cycles_completed).toBe(lastCycle);
    // Each observed cycle is complete: 8 overlay metrics without sampling ones.
    expect(lines.filter((line) => line.split(',')[2] === String(lastCycle))).toHaveLength(8);
  });
});
