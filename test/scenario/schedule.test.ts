import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/engine/errors.js';
import { loadScenario } from '../../src/index.js';
import { collect, scenarioFile, simulate } from '../helpers.js';

const base = (engine: 'cycle' | 'event', extra: Record<string, unknown> = {}) => ({
  size: 50, cycles: 6, engine, event: { period: 100 },
  protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 2 } },
  ...extra,
});

async function errorOf(scenario: Record<string, unknown>, set?: string[]): Promise<string> {
  const file = scenarioFile(scenario);
  try {
    await loadScenario(file, { set });
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    // Lines are checked elsewhere; here, what is said.
    return (error as Error).message.replace(new RegExp(`^${file}:\\d+:`), 'FILE:');
  }
  return 'no error';
}

/** The times (cycles, or ms) at which the observer `o` wrote rows. */
async function observedAt(scenario: Record<string, unknown>): Promise<number[]> {
  const rows = collect(await simulate(scenario));
  return [...new Set([...rows.keys()].filter((k) => k.split(' ')[1] === 'o').map((k) => Number(k.split(' ')[0])))];
}

describe('schedules', () => {
  it('mean the same in both engines: a number counts cycles, or periods', async () => {
    const observers = { o: { type: 'churn', every: 2, from: 1, until: 5 } };
    expect(await observedAt(base('cycle', { observers }))).toEqual([1, 3, 5]);
    expect(await observedAt(base('event', { observers }))).toEqual([100, 300, 500]);
    // The resolved schedule is in the engine's unit (the manifest records it so).
    const { scenario } = await loadScenario(scenarioFile(base('event', { observers })));
    expect(scenario.observers.o.schedule).toEqual({ every: 200, from: 100, until: 500, final: false });
  });

  it('take durations in the event engine, and refuse them in the cycle engine', async () => {
    expect(await observedAt(base('event', { observers: { o: { type: 'churn', every: '250ms', from: '0.1s' } } }))).toEqual([100, 350, 600]);
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', every: '250ms' } } })))
      .toBe('FILE: observers.o.every: expected a whole number of cycles, found "250ms" (durations such as "250ms" count only in the event engine)');
    expect(await errorOf(base('event', { observers: { o: { type: 'churn', every: '1.5ms' } } })))
      .toBe('FILE: observers.o.every: expected a whole number of ms, found "1.5ms" (1.5 ms)');
    expect(await errorOf(base('event', { observers: { o: { type: 'churn', from: 1.5 } } })))
      .toBe('FILE: observers.o.from: expected a whole number of periods (or a duration such as "250ms"), found 1.5');
  });

  it('keep sessions and traces running every ms of the event engine by default', async () => {
    const controls = { s: { type: 'sessions', on: { dist: 'exponential', mean: 3 } }, c: { type: 'churn', remove: 1 } };
    const { scenario } = await loadScenario(scenarioFile(base('event', { controls })));
    expect([scenario.controls.s.schedule.every, scenario.controls.c.schedule.every]).toEqual([1, 100]);
  });

  it('that could never take effect are errors, not silent no-ops', async () => {
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', from: 4, until: 2 } } })))
      .toBe('FILE: observers.o.until: expected a time at or after from (cycle 4), found 2');
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', from: 7 } } })))
      .toBe('FILE: observers.o.from: expected a time within the run (6 cycles), found 7: it would never run');
    expect(await errorOf(base('event', { observers: { o: { type: 'churn', from: '2s' } } })))
      .toBe('FILE: observers.o.from: expected a time within the run (6 periods = 600 ms), found "2s" (2000 ms): it would never run');
    // A control first runs at cycle 1 (at `every` when from is 0).
    expect(await errorOf(base('cycle', { controls: { c: { type: 'churn', remove: 1, every: 10 } } })))
      .toBe('FILE: controls.c.every: expected the control to run at least once: it first runs at cycle 10, after the end of the run (6 cycles)');
    // An observer's every longer than its window: one observation, most likely ms written as periods.
    expect(await errorOf(base('event', { observers: { o: { type: 'churn', every: 5000 } } })))
      .toBe('FILE: observers.o.every: expected at most the observer\'s window (0 ms to 600 ms), found 5000 (500000 ms; a duration is written like "250ms"): it would observe only at 0 ms (for that, say until: 0)');
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', every: 6 } } }))).toBe('no error');
    // With final: true it runs at the end: that takes effect.
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', from: 7, final: true } } }))).toBe('no error');
    // So does a schedule made impossible by --set.
    expect(await errorOf(base('cycle', { observers: { o: { type: 'churn', from: 4 } } }), ['cycles=2']))
      .toMatch(/^FILE: observers\.o\.from: expected a time within the run \(2 cycles\), found 4/);
  });

  it('count in periods after --set engine=event, as in cycles before', async () => {
    const observers = { o: { type: 'churn', every: 3 } };
    const { scenario } = await loadScenario(scenarioFile(base('cycle', { observers })), { set: ['engine=event'] });
    expect(scenario.observers.o.schedule.every).toBe(300);
  });
});

describe('churn that adds nodes', () => {
  it('is an error when no slot can ever be free', async () => {
    expect(await errorOf(base('cycle', { controls: { grow: { type: 'churn', add: 10 } } })))
      .toBe('FILE: controls.grow.add: expected room for new nodes, found none: the run starts with 50 nodes, capacity: 50 allows no more, and no control removes nodes for good; raise capacity above 50');
    expect(await errorOf(base('cycle', { capacity: 80, controls: { grow: { type: 'churn', add: 10, max: 50 } } })))
      .toMatch(/controls\.grow\.add: expected room for new nodes, found none: .* max: 50 allows no more, .*; raise max above 50$/);
  });

  it('is fine with room to grow, or with a control that removes nodes first', async () => {
    expect(await errorOf(base('cycle', { capacity: 60, controls: { grow: { type: 'churn', add: 10 } } }))).toBe('no error');
    expect(await errorOf(base('cycle', { controls: { grow: { type: 'churn', add: 10 }, crash: { type: 'catastrophe', at: 2, amount: 0.5 } } }))).toBe('no error');
    expect(await errorOf(base('cycle', { controls: { steady: { type: 'churn', remove: 2, add: 2 } } }))).toBe('no error');
    // `max` counts live nodes: nodes taken offline for a while make room under it.
    expect(await errorOf(base('cycle', {
      capacity: 80, attributes: { region: { dist: 'constant', value: 0 } },
      controls: { down: { type: 'outage', at: 2, back: 3, region: 0 }, refill: { type: 'churn', add: 5, max: 50 } },
    }))).toBe('no error');
  });
});
