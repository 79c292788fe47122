import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/index.js';
import { scenarioFile } from '../helpers.js';

const base = {
  size: 100, cycles: 5, engine: 'event',
  event: { period: 1000 },
  transport: { latency: { model: 'uniform', min: 10, max: 100 }, loss: 0 },
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
};

async function errorOf(changes: Record<string, unknown>): Promise<string> {
  const file = scenarioFile({ ...base, ...changes });
  try {
    await loadScenario(file);
  } catch (error) {
    return (error as Error).message.replace(`${file}:`, 'FILE:');
  }
  return 'no error';
}

describe('event engine settings, on bad input', () => {
  it('reject a minimum latency above the maximum', async () => {
    expect(await errorOf({ transport: { latency: { model: 'uniform', min: 200, max: 100 } } }))
      .toMatch(/^FILE:\d+: transport\.latency\.max: expected max >= min/);
  });

  it('reject a negative latency', async () => {
    expect(await errorOf({ transport: { latency: { model: 'constant', value: -5 } } }))
      .toMatch(/^FILE:\d+: transport\.latency\.value: expected a value >= 0, found -5$/);
  });

  it('reject a loss probability outside [0, 1]', async () => {
    expect(await errorOf({ transport: { loss: 1.5 } })).toMatch(/^FILE:\d+: transport\.loss: expected a value <= 1, found 1\.5$/);
    expect(await errorOf({ transport: { loss: -0.1 } })).toMatch(/^FILE:\d+: transport\.loss: expected a value >= 0, found -0\.1$/);
  });

  it('reject a period of 0', async () => {
    expect(await errorOf({ event: { period: 0 } })).toMatch(/^FILE:\d+: event\.period: expected a value > 0, found 0$/);
  });

  it('reject an unknown latency model, listing the known ones', async () => {
    expect(await errorOf({ transport: { latency: { model: 'gaussian' } } }))
      .toMatch(/transport\.latency\.model: expected one of "constant", "uniform", "lognormal", "coordinates", "regions", found "gaussian"/);
  });

  it('accept a good event scenario and fill in the defaults', async () => {
    const { scenario } = await loadScenario(scenarioFile(base));
    expect(scenario.engine).toBe('event');
    expect(scenario.event).toEqual({ period: 1000, jitter: 0, timeout: 1000 });
    expect(scenario.transport).toEqual({ latency: { model: 'uniform', min: 10, max: 100 }, loss: 0, bandwidth: 0 });
  });

  it('run observers and controls once a period unless `every` says otherwise (every cycle in the cycle engine; sessions and traces every ms)', async () => {
    const observers = { often: { type: 'churn', every: '250ms' }, usual: { type: 'churn' } };
    const { scenario } = await loadScenario(scenarioFile({ ...base, event: { period: 500 }, observers }));
    expect([scenario.observers.often.schedule.every, scenario.observers.usual.schedule.every]).toEqual([250, 500]);
    const cycle = await loadScenario(scenarioFile({ ...base, engine: 'cycle', observers: { usual: observers.usual } }));
    expect(cycle.scenario.observers.usual.schedule.every).toBe(1);
    // Sessions end at times of their own: every ms unless told otherwise.
    const controls = { s: { type: 'sessions', on: { dist: 'exponential', mean: 3 } }, c: { type: 'churn', remove: 1 } };
    const event = await loadScenario(scenarioFile({ ...base, event: { period: 500 }, controls }));
    expect([event.scenario.controls.s.schedule.every, event.scenario.controls.c.schedule.every]).toEqual([1, 500]);
  });
});
