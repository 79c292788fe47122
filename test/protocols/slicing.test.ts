import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import { NodeStore } from '../../src/engine/node-store.js';
import type { Context, ProtocolContext } from '../../src/engine/protocol.js';
import { Random } from '../../src/engine/random.js';
import { Simulation } from '../../src/engine/simulation.js';
import { slicingObserver } from '../../src/observers/slicing.js';
import { WorldState } from '../../src/engine/state.js';
import { Slicing } from '../../src/protocols/slicing.js';
import { loadScenario } from '../../src/scenario/load.js';
import { scenarioFile } from '../helpers.js';

const K = 10;

/** Both methods side by side over one Cyclon overlay, sliced by a heavy-tailed attribute. */
function slicingScenario(size: number, cycles: number, extra: Record<string, unknown> = {}) {
  return {
    seed: 4, size, cycles,
    attributes: { capacity: { dist: 'pareto', alpha: 2, xm: 1 } },
    protocols: {
      cyclon: { type: 'cyclon', cache: 20, shuffle: 5 },
      ordering: { type: 'slicing', method: 'ordering', attribute: 'capacity', sampler: 'cyclon' },
      ranking: { type: 'slicing', method: 'ranking', attribute: 'capacity', sampler: 'cyclon' },
    },
    observers: {
      ordering: { type: 'slicing', protocol: 'ordering', slices: K },
      ranking: { type: 'slicing', protocol: 'ranking', slices: K },
    },
    ...extra,
  };
}

async function build(scenario: Record<string, unknown>): Promise<Simulation> {
  const { scenario: resolved, registry } = await loadScenario(scenarioFile(scenario), { registry: builtinRegistry() });
  return new Simulation(resolved, registry);
}

/** Runs to the end; returns `cycle observer metric -> value` and the simulation. */
async function run(scenario: Record<string, unknown>) {
  const simulation = await build(scenario);
  const rows = new Map<string, number>();
  simulation.run((cycle, observer, metric, value) => rows.set(`${cycle} ${observer} ${metric}`, value));
  const at = (cycle: number, observer: string, metric = 'sdm') => rows.get(`${cycle} ${observer} ${metric}`)!;
  return { simulation, at };
}

/**
 * The best ordering can do with its draws: the SDM when the live nodes' random values
 * are perfectly sorted by attribute (the residual the paper says it stalls at).
 */
function sortedDrawsSdm(simulation: Simulation, ordering: Slicing): number {
  const { store } = simulation;
  const slots = Array.from({ length: store.size }, (_, i) => store.liveSlot(i));
  const r = slots.map((slot) => ordering.r[slot]).sort((x, y) => x - y);
  const byAttribute = [...slots].sort((x, y) => ordering.attribute[x] - ordering.attribute[y] || store.idOf[x] - store.idOf[y]);
  let sdm = 0;
  byAttribute.forEach((slot, p) => {
    const trueSlice = Math.ceil((K * (p + 1)) / slots.length);
    sdm += Math.abs(trueSlice - Math.min(K, Math.max(1, Math.ceil(K * r[p]))));
  });
  return sdm;
}

describe('slicing', () => {
  it('ordering converges fast, then stalls at the residual of its sorted random draws; ranking keeps improving (N = 1000)', async () => {
    const { simulation, at } = await run(slicingScenario(1000, 300));
    const ordering = simulation.protocols.get('ordering') as Slicing;
    // Fast: a tenth of the initial disorder by cycle 20.
    expect(at(20, 'ordering')).toBeLessThan(at(0, 'ordering') / 10);
    // Then it stalls, at about what perfectly sorted draws would give.
    expect(Math.abs(at(300, 'ordering') - at(100, 'ordering'))).toBeLessThanOrEqual(0.1 * at(100, 'ordering'));
    const floor = sortedDrawsSdm(simulation, ordering);
    expect(at(300, 'ordering')).toBeGreaterThanOrEqual(0.9 * floor);
    expect(at(300, 'ordering')).toBeLessThanOrEqual(1.2 * floor);
    // Ranking keeps improving where ordering stalls (its error shrinks as samples pile
    // up, so it ends below any residual; when depends on how lucky ordering's draws were).
    expect(at(300, 'ranking')).toBeLessThan(0.7 * at(100, 'ranking'));
  });

  it('under churn correlated with the attribute, ordering collapses and ranking with a window holds (N = 1000)', async () => {
    // From cycle 50 on, the 1% of nodes with the lowest values leave every cycle, replaced by new ones.
    const scenario = slicingScenario(1000, 200, {
      capacity: 2000,
      controls: { lowLeave: { type: 'churn', remove: 0.01, substitute: true, select: 'bottom', attribute: 'capacity', from: 50 } },
    });
    scenario.protocols = { ...scenario.protocols, windowed: { type: 'slicing', method: 'ranking', attribute: 'capacity', sampler: 'cyclon', window: 400 } } as typeof scenario.protocols;
    scenario.observers = { ...scenario.observers, windowed: { type: 'slicing', protocol: 'windowed', slices: K } } as typeof scenario.observers;
    const { simulation, at } = await run(scenario);
    expect(simulation.store.size).toBe(1000);
    // Ordering's disorder keeps growing: the departed take the low random values with them.
    expect(at(200, 'ordering')).toBeGreaterThan(8 * at(50, 'ordering'));
    expect(at(200, 'ordering')).toBeGreaterThan(at(100, 'ordering'));
    // Ranking counts the departed's values forever; forgetting them keeps the disorder low.
    expect(at(200, 'ranking')).toBeLessThan(0.6 * at(200, 'ordering'));
    expect(at(200, 'windowed')).toBeLessThan(0.4 * at(200, 'ranking'));
    expect(at(200, 'windowed')).toBeLessThan(2 * at(50, 'windowed'));
  });

  it('ordering only swaps values: the multiset of random values is kept without churn', async () => {
    const sortedValues = async (cycles: number) => {
      const simulation = await build(slicingScenario(300, cycles));
      simulation.run(() => {});
      return [...(simulation.protocols.get('ordering') as Slicing).r].sort((x, y) => x - y);
    };
    const [start, later] = [await sortedValues(0), await sortedValues(40)];
    expect(later).toEqual(start);
    expect(new Set(start).size).toBe(300);
  });

  it('gives joining nodes a fresh draw or fresh counts, and keeps measuring under churn', async () => {
    const { simulation, at } = await run(slicingScenario(500, 60, {
      capacity: 1000,
      controls: { churn: { type: 'churn', remove: 0.02, substitute: true } },
    }));
    const { store } = simulation;
    const ordering = simulation.protocols.get('ordering') as Slicing;
    const ranking = simulation.protocols.get('ranking') as Slicing;
    const live = Array.from({ length: store.size }, (_, i) => store.liveSlot(i));
    const last = Math.max(...live.map((slot) => store.joinedAt[slot]));
    const joinedLast = live.filter((slot) => store.joinedAt[slot] === last);
    const original = live.filter((slot) => store.joinedAt[slot] === 0);
    expect(joinedLast.length).toBe(10);
    expect(original.length).toBeGreaterThan(100);
    // A node that joined in the last churn has counted a cycle's values or so; an original one, sixty cycles'.
    const meanSeen = (slots: number[]) => slots.reduce((sum, slot) => sum + ranking.seen[slot], 0) / slots.length;
    expect(meanSeen(joinedLast)).toBeLessThan(0.1 * meanSeen(original));
    for (const slot of joinedLast) expect(ordering.r[slot] > 0 && ordering.r[slot] <= 1).toBe(true);
    for (const observer of ['ordering', 'ranking']) expect(at(60, observer, 'misplaced')).toBeLessThan(0.5);
  });

  it('ranking counts what a node pulls from its view and what is pushed to it, ties as half (three nodes, by hand)', async () => {
    const simulation = await build({
      seed: 1, size: 3, cycles: 1,
      attributes: { a: { dist: 'constant', value: 0 } },
      protocols: {
        graph: { type: 'static', degree: 2 },
        ranking: { type: 'slicing', method: 'ranking', attribute: 'a', sampler: 'graph' },
      },
    });
    simulation.store.attribute('a').set([1, 2, 2]);
    simulation.runCycle(() => {});
    const ranking = simulation.protocols.get('ranking') as Slicing;
    // Each node knows both others: it pulls two values and is pushed two.
    expect(Array.from(ranking.seen)).toEqual([4, 4, 4]);
    // The node at 1 saw only higher values; each node at 2 saw 1 twice (1 + 1) and 2 twice (1/2 + 1/2).
    expect([0, 1, 2].map((slot) => ranking.estimate(slot))).toEqual([0, 0.75, 0.75]);
  });

  it('measures SDM, misplaced and GDM as defined (four nodes, two slices, by hand)', () => {
    const store = new NodeStore(4);
    const a = store.defineAttribute('a');
    for (let i = 0; i < 4; i++) a[store.add(0)] = 10 * (i + 1);
    const slicing = new Slicing({ store, name: 's', random: new Random('test', 1), state: new WorldState().scope('protocols.s') } as unknown as ProtocolContext, { method: 'ordering', attribute: 'a' });
    // True slices by attribute rank 1..4: 1 1 2 2. Estimated, ceil(2r): 2 1 1 2.
    slicing.r.set([0.6, 0.1, 0.3, 0.9]);
    const observer = slicingObserver.create({ store, name: 'o', protocol: () => slicing } as unknown as Context, { protocol: 's', slices: 2 });
    const metrics = new Map<string, number>();
    observer.observe((metric, value) => metrics.set(metric, value));
    // Ranks by estimate: 3 1 2 4, against 1 2 3 4: squares 4 + 1 + 1 + 0.
    expect(Object.fromEntries(metrics)).toEqual({ sdm: 2, sdm_per_node: 0.5, misplaced: 0.5, gdm: 1.5 });
  });

  it('names the key path of a bad attribute, a wrong protocol or a window without ranking', async () => {
    const badAttribute = slicingScenario(50, 1);
    (badAttribute.protocols.ranking as Record<string, unknown>).attribute = 'load';
    await expect(build(badAttribute)).rejects.toThrow('protocols.ranking.attribute: expected a declared attribute (capacity), found "load"');
    const wrongProtocol = slicingScenario(50, 1);
    (wrongProtocol.observers.ranking as Record<string, unknown>).protocol = 'cyclon';
    await expect(build(wrongProtocol)).rejects.toThrow('observers.ranking.protocol: expected the name of a slicing protocol, found "cyclon" (of another type)');
    const windowedOrdering = slicingScenario(50, 1);
    (windowedOrdering.protocols.ordering as Record<string, unknown>).window = 100;
    await expect(build(windowedOrdering)).rejects.toThrow('protocols.ordering.window: expected window only with method ranking, found method ordering');
  });
});
