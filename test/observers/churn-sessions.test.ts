import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeRun, runScenario } from '../../src/run.js';
import { loadScenario } from '../../src/scenario/load.js';
import { builtinRegistry } from '../../src/builtins.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { scenarioFile, simulate, tempDir } from '../helpers.js';

/** BitTorrent-like sessions (Stutzbach & Rejaie 2006), a small overlay, the churn observer with and without the fit. */
const bittorrent = (every: number, cycles = 200, size = 1000) => ({
  seed: 3, size, cycles,
  protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
  controls: {
    sessions: { type: 'sessions', on: { dist: 'weibull', shape: 0.38, scale: 42.4 }, off: { dist: 'exponential', mean: 60 } },
  },
  observers: {
    plain: { type: 'churn' },
    sessions: { type: 'churn', sessions: true, every },
  },
});

/** Each observer's observations: cycle -> metric -> value. */
async function observe(scenario: Record<string, unknown>): Promise<Map<string, Map<number, Record<string, number>>>> {
  const simulation = await simulate(scenario);
  const byObserver = new Map<string, Map<number, Record<string, number>>>();
  simulation.run((at, observer, metric, value) => {
    const rows = byObserver.get(observer) ?? byObserver.set(observer, new Map()).get(observer)!;
    (rows.get(at) ?? rows.set(at, {}).get(at)!)[metric] = value;
  });
  return byObserver;
}

describe('churn observer: sessions', () => {
  it('keeps its five metrics by default and adds the session metrics only when asked', async () => {
    const rows = await observe(bittorrent(1, 5, 200));
    expect(Object.keys(rows.get('plain')!.get(5)!)).toEqual(['live', 'joined', 'left', 'failed', 'mean_age']);
    expect(Object.keys(rows.get('sessions')!.get(5)!)).toEqual([
      'live', 'joined', 'left', 'failed', 'mean_age', 'sessions_ended', 'sessions_running', 'session_shape', 'session_scale',
    ]);
  });

  it('observing every cycle, counts every departure as an ended session and every live node as a running one', async () => {
    const rows = (await observe(bittorrent(1, 60, 300))).get('sessions')!;
    let left = 0;
    for (const [cycle, row] of [...rows].sort((a, b) => a[0] - b[0])) {
      left += row.left;
      expect(row.sessions_ended, `cycle ${cycle}`).toBe(left);
      expect(row.sessions_running, `cycle ${cycle}`).toBe(row.live);
    }
    expect(left).toBeGreaterThan(100);
    expect(rows.get(0)!.session_shape).toBeNaN(); // nothing has ended yet
  });

  it('gives back the Weibull shape and scale through the engine, observing every cycle or every 5', async () => {
    // About 1,400 ended and 600 running sessions: standard errors about 0.008 (shape) and 6% (scale).
    for (const every of [1, 5]) {
      const last = (await observe(bittorrent(every))).get('sessions')!.get(200)!;
      expect(Math.abs(last.session_shape - 0.38), `shape, every ${every}`).toBeLessThan(0.035);
      expect(Math.abs(last.session_scale / 42.4 - 1), `scale, every ${every}`).toBeLessThan(0.25);
    }
  });

  it('is the same run after run (the fit starts from the previous one)', async () => {
    const a = (await observe(bittorrent(1, 40, 300))).get('sessions')!.get(40)!;
    const b = (await observe(bittorrent(1, 40, 300))).get('sessions')!.get(40)!;
    expect(b).toEqual(a);
  });

  it('stopped and resumed, gives the same sessions and fits as run through (its state is declared)', async () => {
    const file = scenarioFile(bittorrent(1, 30, 300));
    const whole = tempDir();
    await runScenario(file, { out: whole });
    const dir = tempDir();
    let done = 0;
    const stopped = await runScenario(file, { out: dir, onProgress: (p) => { done = p.cycles; }, shouldStop: () => done >= 12 });
    expect(stopped).toMatchObject({ status: 'interrupted', cycles: 12 });
    await resumeRun(dir);
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8')).toBe(readFileSync(join(whole, 'metrics.csv'), 'utf8'));
  });

  it('refuses the fit in the event engine, whose timing it does not model', async () => {
    const scenario = { ...bittorrent(1, 5, 100), engine: 'event' };
    await expect(loadScenario(scenarioFile(scenario), { registry: builtinRegistry() })).rejects.toThrow(ScenarioError);
    await expect(loadScenario(scenarioFile(scenario), { registry: builtinRegistry() })).rejects.toThrow(/sessions only with the cycle engine/);
  });
});
