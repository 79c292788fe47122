import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import { defineProtocol, type ProtocolContext } from '../../src/engine/protocol.js';
import { Simulation } from '../../src/engine/simulation.js';
import { loadScenario } from '../../src/scenario/load.js';
import { z } from 'zod';
import { collect, scenarioFile, simulate } from '../helpers.js';

const geometricMean = (xs: number[]) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);

function averaging(engine: 'cycle' | 'event', latency?: Record<string, unknown>) {
  return {
    seed: 11, size: 10_000, cycles: 12, engine,
    event: { period: 1000 },
    transport: { latency: latency ?? { model: 'constant', value: 0 } },
    protocols: {
      oracle: { type: 'oracle' },
      avg: { type: 'aggregation', function: 'average', sampler: 'oracle', init: { kind: 'uniform', a: 0, b: 1 } },
    },
    observers: { avg: { type: 'aggregation', protocol: 'avg', every: 1 } },
  };
}

describe('event engine', () => {
  it('runs Cyclon as messages and converges like the cycle-driven one (N = 10^4, c = 20, l = 5, 100 periods)', async () => {
    const rows = collect(await simulate({
      seed: 2, size: 10_000, cycles: 100, engine: 'event',
      event: { period: 1000 },
      transport: { latency: { model: 'uniform', min: 10, max: 100 } },
      protocols: { cyclon: { type: 'cyclon', cache: 20, shuffle: 5, init: { topology: 'ring' } } },
      observers: { overlay: { type: 'overlay', every: 100, sample: 100, sources: 1 } },
    }));
    // Between its timer and Q's reply (20-200 ms of each second) a node holds c - 1 entries.
    expect(Math.abs(rows.get('100000 overlay indegree_mean')! - 20)).toBeLessThanOrEqual(0.5);
    expect(rows.get('100000 overlay indegree_std')).toBeLessThan(3);
    expect(rows.get('100000 overlay largest_component')).toBe(10_000);
  });

  it('drops a departed contact from Cyclon caches when its requests go unanswered', async () => {
    const rows = collect(await simulate({
      seed: 3, size: 2000, cycles: 60, engine: 'event',
      event: { period: 1000 },
      transport: { latency: { model: 'uniform', min: 10, max: 100 }, loss: 0.01 },
      protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
      controls: { disaster: { type: 'catastrophe', at: 10, amount: 0.5, every: 1 } },
      observers: { overlay: { type: 'overlay', every: 10, sample: 0, sources: 0 } },
    }));
    expect(rows.get('10000 overlay dead_links')).toBeGreaterThan(1000);
    expect(rows.get('60000 overlay dead_links')).toBe(0);
    expect(rows.get('60000 overlay live')).toBe(1000);
    expect(rows.get('60000 overlay largest_component')).toBe(1000);
  });

  it('reproduces the cycle-driven convergence factor of averaging with zero latency (within 0.02)', async () => {
    const cycle = collect(await simulate(averaging('cycle')));
    const event = collect(await simulate(averaging('event')));
    const factor = (rows: Map<string, number>, unit: number) =>
      geometricMean(Array.from({ length: 10 }, (_, i) => rows.get(`${(i + 1) * unit} avg convergence_factor`)!));
    const cycleFactor = factor(cycle, 1);
    const eventFactor = factor(event, 1000);
    expect(Math.abs(eventFactor - cycleFactor)).toBeLessThanOrEqual(0.02);
    // Even at zero latency a request waits behind the other events of its millisecond, so
    // exchanges can overlap a little: the mean barely moves.
    expect(Math.abs(event.get('10000 avg drift')!)).toBeLessThan(1e-3);
  });

  it('reports the drift of the mean when exchanges overlap (latency 100-400 ms, period 1 s)', async () => {
    const rows = collect(await simulate(averaging('event', { model: 'uniform', min: 100, max: 400 })));
    const drift = rows.get('12000 avg drift')!;
    expect(Math.abs(drift)).toBeGreaterThan(1e-6);
    expect(Math.abs(drift)).toBeLessThan(0.05);
    expect(rows.get('12000 avg max_rel_error')).toBeLessThan(0.05);
  });

  it('is deterministic: the same seed gives the same rows', async () => {
    const a = collect(await simulate(averaging('event', { model: 'uniform', min: 10, max: 100 })));
    const b = collect(await simulate(averaging('event', { model: 'uniform', min: 10, max: 100 })));
    expect([...a.entries()]).toEqual([...b.entries()]);
  });

  it('fires each node\'s timer once per period, never a former occupant\'s timer after its slot is reused', async () => {
    const firings = new Map<number, number[]>(); // node id -> times its timer fired
    let wrongNode = 0;
    const tick = defineProtocol({
      type: 'tick', description: 'records timer firings', params: z.strictObject({}),
      create: (ctx: ProtocolContext) => ({
        step() {},
        onTimer(slot: number) {
          if (!ctx.store.alive[slot]) wrongNode++;
          const id = ctx.store.idOf[slot];
          firings.set(id, [...(firings.get(id) ?? []), ctx.transport!.now]);
        },
      }),
    });
    const file = scenarioFile({
      seed: 3, size: 50, cycles: 30, engine: 'event', event: { period: 100 },
      protocols: { tick: { type: 'tick' } },
      // Substitution reuses each freed slot at once (the free slots are a stack).
      controls: { churn: { type: 'churn', remove: 10, substitute: true, every: 1 } },
    });
    const { scenario, registry } = await loadScenario(file, { registry: builtinRegistry().register(tick) });
    const simulation = new Simulation(scenario, registry);
    simulation.run(() => {});
    expect(simulation.store.slotsAreIds).toBe(false);
    expect(wrongNode).toBe(0);
    expect(firings.size).toBeGreaterThan(200); // 50 first nodes and ~10 new ones per period
    for (const times of firings.values()) {
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(100);
    }
  });

  it('stops a departed node\'s timers and runs observers at their times', async () => {
    const simulation = await simulate({
      seed: 1, size: 100, cycles: 5, engine: 'event', event: { period: 100 },
      // A static overlay does nothing when its timer fires: one event per firing.
      protocols: { overlay: { type: 'static', degree: 5 } },
      controls: { disaster: { type: 'catastrophe', at: 2, amount: 50, every: '50ms' } },
      observers: { churn: { type: 'churn', every: '250ms' } },
    });
    const rows = new Map<string, number>();
    simulation.run((at, observer, metric, value) => rows.set(`${at} ${metric}`, value));
    expect([...new Set([...rows.keys()].map((k) => Number(k.split(' ')[0])))]).toEqual([0, 250, 500]);
    expect(rows.get('250 live')).toBe(50);
    // 100 timers per period for 2 periods, then 50: 100 + 100 + 50 + 50 + 50 firings, plus the ones at exactly 500.
    expect(simulation.eventLoop!.processed).toBeGreaterThanOrEqual(350);
    expect(simulation.eventLoop!.processed).toBeLessThanOrEqual(400);
  });
});
