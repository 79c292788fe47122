import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeRun, runScenario } from '../src/run.js';
import { tempDir } from './helpers.js';

/*
 * Built-in scenarios, shrunk, stopped after a cycle (as a signal stops them) and
 * resumed through the library: the built-in protocols, controls and observers keep
 * all their state in declarations, so the resumed metrics.csv is the uninterrupted one.
 */

const csvIn = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8');

describe('a built-in scenario stopped and resumed', () => {
  it.for([
    ['cyclon.yaml', ['size=1000', 'cycles=10', 'observers.overlay.sample=200'], 4],
    // Periods of 1 s, latency up to 100 ms: shuffles in flight at each period's end.
    ['event-cyclon.yaml', ['size=1000', 'cycles=12', 'observers.overlay.every=1'], 5],
    ['churn-steady.yaml', ['size=1000', 'cycles=12'], 5],
    // Stopped while the partition is in force.
    ['partition.yaml', ['size=1000', 'cycles=12', 'controls.split.start=3', 'controls.split.end=8'], 5],
  ] as const)('%s gives the same metrics.csv as run through', async ([name, set, k]) => {
    const file = join('scenarios', name);
    const whole = tempDir();
    await runScenario(file, { set: [...set], out: whole });
    const dir = tempDir();
    let done = 0;
    const stopped = await runScenario(file, { set: [...set], out: dir, onProgress: (p) => { done = p.cycles; }, shouldStop: () => done >= k });
    expect(stopped).toMatchObject({ status: 'interrupted', cycles: k });
    await resumeRun(dir);
    expect(csvIn(dir)).toBe(csvIn(whole));
  });
});
