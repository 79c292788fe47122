import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { deserialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinRegistry } from '../../src/builtins.js';
import { defineObserver } from '../../src/engine/protocol.js';
import type { Registry } from '../../src/engine/registry.js';
import type { Simulation } from '../../src/engine/simulation.js';
import type { Section } from '../../src/engine/state.js';
import { simulate } from '../helpers.js';

/*
 * Every control and observer keeps what lasts between its calls in declared state:
 * a run resumed from a checkpoint at cycle k (a fresh world of the same scenario with
 * the saved state put back) emits the same rows after k as the uninterrupted run, and
 * holds the same state at every cycle after k. The `oracle` keeps no state, so with it
 * only the controls' and observers' declarations are tested.
 */

type Rows = string[];
const sinkInto = (rows: Rows) => (at: number, observer: string, metric: string, value: number) => {
  rows.push(`${at} ${observer} ${metric} ${value}`);
};

/** A copy of the run's state (array sections are views of live memory). */
function checkpoint(sim: Simulation): Section[] {
  return sim.saveState().map((s) => ({ ...s, bytes: s.bytes.slice() }));
}

/** The state in a comparable form: values decoded (their encoding may differ for equal values), arrays as bytes. */
function comparable(sim: Simulation): Map<string, unknown> {
  return new Map(sim.saveState().map((s) => [s.name, s.type === 'value' ? deserialize(s.bytes) : Buffer.from(s.bytes)]));
}

/** The names of the pieces of state that differ between two runs (a short failure message, not a dump). */
function differing(a: Simulation, b: Simulation): string[] {
  const left = comparable(a), right = comparable(b);
  const names = new Set([...left.keys(), ...right.keys()]);
  return [...names].filter((name) => {
    const x = left.get(name), y = right.get(name);
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? !x.equals(y) : !isDeepStrictEqual(x, y);
  });
}

async function expectResumeAt(scenario: Record<string, unknown>, k: number, registry: () => Registry = builtinRegistry): Promise<void> {
  const whole = await simulate(scenario, registry());
  const rows: Rows = [];
  whole.observe(sinkInto(rows));
  while (!whole.done && whole.clock.cycle < k) whole.advance(sinkInto(rows));
  expect(whole.clock.cycle).toBe(k);
  const saved = checkpoint(whole);
  const cut = rows.length;

  const resumed = await simulate(scenario, registry());
  resumed.restoreState(saved);
  expect(differing(resumed, whole), 'state just restored').toEqual([]);
  const after: Rows = [];
  while (!whole.done) {
    whole.advance(sinkInto(rows));
    resumed.advance(sinkInto(after));
    expect(differing(resumed, whole), `state at cycle ${whole.clock.cycle}`).toEqual([]);
  }
  expect(resumed.done).toBe(true);
  expect(after).toEqual(rows.slice(cut));
  expect(after.length).toBeGreaterThan(0);
}

const oracle = { oracle: { type: 'oracle' } };
const observe = { churn: { type: 'churn' }, overlay: { type: 'overlay', sample: 20, sources: 1 } };
const regions = { region: { dist: 'discrete', values: [0, 1, 2, 3] } };

const controlScenarios: Record<string, [Record<string, unknown>, number[]]> = {
  'churn, random and slots reused': [{
    seed: 3, size: 200, capacity: 260, cycles: 12, protocols: oracle, observers: observe,
    controls: { churn: { type: 'churn', remove: 0.05, add: 0.06, from: 2 } },
  }, [1, 5]],
  'churn by attribute rank': [{
    seed: 4, size: 200, cycles: 10, attributes: { load: { dist: 'uniform', min: 0, max: 1 } }, protocols: oracle, observers: observe,
    controls: { churn: { type: 'churn', remove: 3, substitute: true, select: 'bottom', attribute: 'load' } },
  }, [4]],
  'sessions (weibull, returning with their state)': [{
    seed: 5, size: 300, cycles: 30, protocols: oracle, observers: observe,
    controls: { sessions: { type: 'sessions', on: { dist: 'weibull', shape: 0.38, scale: 6 }, off: { dist: 'exponential', mean: 4 }, record: 10000 } },
  }, [3, 17]],
  'sessions (returning as new nodes)': [{
    seed: 6, size: 200, capacity: 300, cycles: 25, protocols: oracle, observers: observe,
    controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 5 }, off: { dist: 'exponential', mean: 3 }, returnAs: 'new' } },
  }, [6, 13]],
  'sessions in the event engine': [{
    seed: 7, size: 200, cycles: 12, engine: 'event', event: { period: 1000 }, protocols: oracle, observers: observe,
    controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 4 }, off: { dist: 'exponential', mean: 2 }, every: '250ms' } },
  }, [2, 7]],
  catastrophe: [{
    seed: 8, size: 300, cycles: 10, protocols: oracle, observers: observe,
    controls: { disaster: { type: 'catastrophe', at: 5, amount: 0.3 }, churn: { type: 'churn', add: 2 } },
  }, [3, 6]],
  'catastrophe by attribute rank': [{
    seed: 9, size: 300, cycles: 10, attributes: regions, protocols: oracle, observers: observe,
    controls: { disaster: { type: 'catastrophe', at: 4, amount: 40, select: 'top', attribute: 'region' } },
  }, [2, 5]],
  'outage that comes back': [{
    seed: 10, size: 300, cycles: 10, attributes: regions, protocols: oracle, observers: observe,
    controls: { fire: { type: 'outage', at: 3, back: 6, region: [1, 2] }, churn: { type: 'churn', remove: 0.02, substitute: true } },
  }, [2, 4, 7]],
  'partition with an end': [{
    seed: 11, size: 300, cycles: 10, attributes: regions, protocols: oracle, observers: observe,
    controls: { split: { type: 'partition', start: 3, end: 7, groups: [[0, 1], [2, 3]] } },
  }, [2, 5, 8]],
  'outage and partition in the event engine': [{
    seed: 12, size: 300, cycles: 10, engine: 'event', event: { period: 1000 }, attributes: regions, protocols: oracle, observers: observe,
    controls: {
      fire: { type: 'outage', at: 3, back: 6, region: 1 },
      split: { type: 'partition', start: 2, end: 8, groups: [[0], [2, 3]] },
      disaster: { type: 'catastrophe', at: 5, amount: 0.1, every: '500ms' },
    },
  }, [4, 7]],
  'trace (scenarios/traces/sample.avt)': [{
    seed: 1, size: 200, cycles: 60, protocols: oracle, observers: { churn: { type: 'churn', every: 5 } },
    controls: { trace: { type: 'trace', file: resolve('scenarios/traces/sample.avt'), unit: 60 } },
  }, [0, 23]],
};

describe('controls and observers resume from a checkpoint', () => {
  for (const [name, [scenario, cuts]] of Object.entries(controlScenarios)) {
    for (const k of cuts) {
      it(`${name}, checkpoint at cycle ${k}`, async () => expectResumeAt(scenario, k));
    }
  }
});

/* The observers that measure a protocol's state need that protocol to resume too. */
describe('observers of protocols resume from a checkpoint', () => {
  it('aggregation (convergence factor against the previous observation)', async () => {
    await expectResumeAt({
      seed: 12, size: 300, cycles: 12, protocols: { ...oracle, average: { type: 'aggregation', sampler: 'oracle', init: { kind: 'peak' } } },
      observers: { average: { type: 'aggregation', protocol: 'average', every: 2 } },
    }, 5);
  });

  it('slicing', async () => {
    await expectResumeAt({
      seed: 13, size: 300, cycles: 10, attributes: { capacity: { dist: 'pareto', alpha: 2, xm: 1 } },
      // The oracle lists no neighbours: slicing needs a sampler that does.
      protocols: { graph: { type: 'static', degree: 8 }, ordering: { type: 'slicing', method: 'ordering', attribute: 'capacity', sampler: 'graph' } },
      observers: { ordering: { type: 'slicing', protocol: 'ordering', slices: 10 } },
    }, 4);
  });

  it('churn and a partition under Cyclon and averaging (test/golden/cycle-churn-partition.yaml)', async () => {
    await expectResumeAt({
      seed: 12, size: 500, capacity: 700, cycles: 10, attributes: { region: { dist: 'discrete', values: [0, 1] } },
      protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 }, average: { type: 'aggregation', sampler: 'cyclon', init: { kind: 'peak' } } },
      controls: { churn: { type: 'churn', remove: 0.05, add: 0.05, from: 2 }, split: { type: 'partition', start: 3, end: 7, groups: [[0], [1]] } },
      observers: { overlay: { type: 'overlay', every: 2, sample: 50, sources: 1 }, average: { type: 'aggregation', protocol: 'average' }, churn: { type: 'churn' } },
    }, 5);
  });

  it('the event engine with sessions and messages in flight (test/golden/event-sessions.yaml)', async () => {
    await expectResumeAt({
      seed: 5, size: 300, cycles: 10, engine: 'event', event: { period: 1000, timeout: 600 },
      transport: { latency: { model: 'uniform', min: 10, max: 400 } },
      protocols: { cyclon: { type: 'cyclon', cache: 20, shuffle: 5 }, average: { type: 'aggregation', sampler: 'cyclon', init: { kind: 'uniform', a: 0, b: 1 } } },
      controls: { sessions: { type: 'sessions', on: { dist: 'exponential', mean: 4 }, off: { dist: 'exponential', mean: 2 } } },
      observers: { average: { type: 'aggregation', protocol: 'average' }, churn: { type: 'churn' } },
    }, 4);
  });
});

/**
 * An observer that declares no metrics emits `size` and `late` at its first observation
 * and `size` alone from cycle 3 on: the engine learnt its metrics from the first, and a
 * resumed run must write `late` as NaN, as the uninterrupted one does, not learn anew.
 */
const forgetful = defineObserver({
  type: 'forgetful',
  description: 'leaves a metric out after its first observation',
  params: z.strictObject({}),
  create: (ctx) => ({
    observe(emit: (metric: string, value: number) => void) {
      emit('size', ctx.store.size);
      if (ctx.clock.cycle < 3) emit('late', ctx.clock.cycle);
    },
  }),
});

describe('an observer whose metrics were learnt from its first observation', () => {
  it.each([4, 7])('resumes with the same metrics, checkpoint at cycle %i', async (k) => {
    await expectResumeAt({
      seed: 14, size: 100, cycles: 9, protocols: oracle, observers: { forgetful: { type: 'forgetful' } },
      controls: { churn: { type: 'churn', remove: 2, add: 3 } },
    }, k, () => builtinRegistry().register(forgetful));
  });
});
