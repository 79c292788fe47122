import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import type { ObserverDefinition } from '../../src/engine/protocol.js';
import { Registry } from '../../src/engine/registry.js';
import type { Simulation } from '../../src/engine/simulation.js';
import { simulate } from '../helpers.js';

/** Each observer's metric names, one list per observation, in the order emitted. */
function observations(simulation: Simulation): Map<string, { at: number; metrics: string[]; values: number[] }[]> {
  const byObserver = new Map<string, { at: number; metrics: string[]; values: number[] }[]>();
  simulation.run((at, observer, metric, value) => {
    const list = byObserver.get(observer) ?? byObserver.set(observer, []).get(observer)!;
    if (list.length === 0 || list[list.length - 1].at !== at) list.push({ at, metrics: [], values: [] });
    list[list.length - 1].metrics.push(metric);
    list[list.length - 1].values.push(value);
  });
  return byObserver;
}

/**
 * Steady churn, then every node fails at cycle 5, then new nodes join that sit out
 * the aggregation epoch: observations with no live node and with no participant.
 */
const EVERYONE_FAILS = {
  seed: 2, size: 120, capacity: 200, cycles: 9,
  attributes: { capacity: { dist: 'pareto', alpha: 2 } },
  protocols: {
    cyclon: { type: 'cyclon', cache: 8, shuffle: 4 },
    average: { type: 'aggregation', sampler: 'cyclon', epoch: 100, init: { kind: 'uniform' } },
    slices: { type: 'slicing', method: 'ranking', attribute: 'capacity' },
  },
  controls: {
    churn: { type: 'churn', remove: 0.1, add: 5 },
    disaster: { type: 'catastrophe', at: 5, amount: 10_000 },
  },
  observers: {
    overlay: { type: 'overlay', sample: 20, sources: 2 },
    unsampled: { type: 'overlay', sample: 0, sources: 0 },
    average: { type: 'aggregation', protocol: 'average' },
    churn: { type: 'churn' },
    slicing: { type: 'slicing', protocol: 'slices', slices: 4 },
  },
};

/** The built-ins, with each observer's own emissions recorded before the engine pads them: name -> one list per observation. */
function recordingRegistry(): { registry: Registry; emitted: Map<string, string[][]> } {
  const emitted = new Map<string, string[][]>();
  const registry = new Registry();
  const builtins = builtinRegistry();
  for (const table of [builtins.protocols, builtins.controls]) for (const d of table.values()) registry.register(d);
  for (const definition of builtins.observers.values()) {
    registry.register({
      ...definition,
      create: (ctx, params) => {
        const inner = definition.create(ctx, params);
        const lists = emitted.get(ctx.name) ?? emitted.set(ctx.name, []).get(ctx.name)!;
        return {
          ...(inner.metrics ? { metrics: inner.metrics } : {}),
          observe(emit) {
            const names: string[] = [];
            lists.push(names);
            inner.observe((metric, value) => { names.push(metric); emit(metric, value); });
          },
        };
      },
    } as ObserverDefinition);
  }
  return { registry, emitted };
}

describe('every observation of a built-in observer', () => {
  it('has the metrics its definition declares, in order, through churn, an empty network and no participants', async () => {
    const simulation = await simulate(EVERYONE_FAILS);
    const rows = observations(simulation);
    const registry = builtinRegistry();
    const recording = recordingRegistry();
    await simulate(EVERYONE_FAILS, recording.registry).then((again) => again.run(() => {}));
    for (const [name, spec] of Object.entries(EVERYONE_FAILS.observers)) {
      const declared = registry.observers.get(spec.type)!.metrics;
      // The observer itself emits every metric (NaN where undefined), not the engine's padding.
      for (const names of recording.emitted.get(name)!) expect(names, `${name} emits all its metrics`).toEqual(declared);
      expect(declared, `${spec.type} declares its metrics`).toBeDefined();
      const list = rows.get(name)!;
      expect(list.map((o) => o.at)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const observation of list) expect(observation.metrics, `${name} at ${observation.at}`).toEqual(declared);
    }

    const at = (observer: string, cycle: number) => {
      const o = rows.get(observer)![cycle];
      return Object.fromEntries(o.metrics.map((m, i) => [m, o.values[i]]));
    };
    // Cycle 5: the catastrophe left no one.
    expect(at('overlay', 5)).toMatchObject({ live: 0, dead_links: 0, largest_component: 0 });
    expect(at('overlay', 5).indegree_mean).toBeNaN();
    expect(at('overlay', 5).clustering).toBeNaN();
    expect(at('overlay', 5).path_length).toBeNaN();
    expect(at('churn', 5).live).toBe(0);
    expect(at('churn', 5).mean_age).toBeNaN();
    expect(at('slicing', 5).sdm).toBe(0);
    expect(at('slicing', 5).sdm_per_node).toBeNaN();
    // Afterwards nodes join but sit out the epoch: no participant, so no statistic.
    expect(at('churn', 7).live).toBeGreaterThan(0);
    const average = at('average', 7);
    expect(average.participants).toBe(0);
    for (const metric of ['mean', 'variance', 'min', 'max', 'mean_rel_error', 'max_rel_error']) expect(average[metric], metric).toBeNaN();
    // The first convergence factor has nothing to compare with.
    expect(at('average', 0).convergence_factor).toBeNaN();
    // Without samples or sources, clustering and path length are NaN rather than missing.
    expect(at('unsampled', 1).clustering).toBeNaN();
    expect(at('unsampled', 1).path_length).toBeNaN();
    expect(at('unsampled', 1).live).toBe(at('overlay', 1).live);
  });
});
