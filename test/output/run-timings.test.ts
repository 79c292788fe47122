import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeRun, runScenario, type RunProgress } from '../../src/run.js';
import { scenarioFile, tempDir } from '../helpers.js';

const scenario = {
  seed: 5, size: 5000, cycles: 8,
  protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
  observers: { overlay: { type: 'overlay', every: 2, sample: 100, sources: 1 } },
};
const manifestIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('the manifest timings', () => {
  it('split the run into setup, cycles and observations, and progress tells the steps of the build', async () => {
    const dir = join(tempDir(), 'out');
    const told: RunProgress[] = [];
    await runScenario(scenarioFile(scenario), { out: dir, onProgress: (progress) => told.push(progress) });
    const manifest = manifestIn(dir);
    expect(manifest.status).toBe('completed');
    for (const key of ['setup_seconds', 'cycle_seconds', 'observer_seconds']) {
      expect(manifest[key]).toBeGreaterThan(0);
      expect(Number(manifest[key].toFixed(3))).toBe(manifest[key]);
    }
    expect(manifest.setup_seconds + manifest.cycle_seconds + manifest.observer_seconds).toBeLessThanOrEqual(manifest.wall_seconds + 0.003);
    const building = told.filter((p) => p.phase === 'building');
    expect(building[0].setup).toBeUndefined();
    expect(building.slice(1).map((p) => p.setup!.step)).toEqual(['nodes', 'protocols.cyclon', 'protocols.cyclon.init', 'observers.overlay']);
    expect(told.filter((p) => p.phase === 'running').every((p) => p.setup === undefined)).toBe(true);
  });

  it('add up over the parts of a resumed run', async () => {
    const dir = join(tempDir(), 'out');
    let done = 0;
    await runScenario(scenarioFile(scenario), { out: dir, onProgress: (p) => { done = p.cycles; }, shouldStop: () => done >= 4 });
    const first = manifestIn(dir);
    expect(first.status).toBe('interrupted');
    const steps: string[] = [];
    await resumeRun(dir, { onProgress: (p) => { if (p.setup) steps.push(p.setup.step); } });
    const whole = manifestIn(dir);
    expect(whole.status).toBe('completed');
    expect(whole.setup_seconds).toBe(first.setup_seconds);
    expect(whole.cycle_seconds).toBeGreaterThan(first.cycle_seconds);
    expect(whole.observer_seconds).toBeGreaterThan(first.observer_seconds);
    expect(steps).toContain('protocols.cyclon.init');
  });
});
