import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import { sampler } from '../../src/engine/distributions.js';
import { RandomStreams } from '../../src/engine/random.js';
import { Simulation, type SetupProgress } from '../../src/engine/simulation.js';
import { loadScenario } from '../../src/scenario/load.js';
import { scenarioFile } from '../helpers.js';

const scenario = {
  seed: 3, size: 200_000, cycles: 3,
  attributes: { capacity: { dist: 'uniform', min: 0, max: 1 } },
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
  controls: { churn: { type: 'churn', remove: 10, substitute: true } },
  observers: { overlay: { type: 'overlay', every: 2, sample: 10, sources: 1 } },
};

async function build(onSetup?: (progress: SetupProgress) => void, size = 20_000): Promise<Simulation> {
  const { scenario: resolved, registry } = await loadScenario(scenarioFile({ ...scenario, size }), { registry: builtinRegistry() });
  return new Simulation(resolved, registry, { onSetup });
}

describe('building a run', () => {
  it('tells each step as it begins, and the steps over nodes every 65,536 nodes', async () => {
    const told: SetupProgress[] = [];
    await build((progress) => told.push(progress), 200_000);
    const steps = [...new Set(told.map((p) => p.step))];
    expect(steps).toEqual(['nodes', 'protocols.cyclon', 'protocols.cyclon.init', 'controls.churn', 'controls.churn.init', 'observers.overlay']);
    expect(told.filter((p) => p.step === 'nodes').map((p) => p.done)).toEqual([0, 65536, 131072, 196608]);
    for (const p of told) expect(p.total).toBe(p.step === 'nodes' ? 200_000 : 0);
  });

  it('gives the same run whether or not anyone is told', async () => {
    const rows = async (simulation: Simulation) => {
      const out: string[] = [];
      simulation.run((at, observer, metric, value) => out.push(`${at},${observer},${metric},${value}`));
      return out;
    };
    expect(await rows(await build(() => {}))).toEqual(await rows(await build()));
  });
});

describe('attributes', () => {
  it('are drawn when first read, as they would have been at setup, or before the population first changes', async () => {
    const expected = new Float64Array(20_000);
    const random = new RandomStreams(3).stream('attribute/capacity');
    const draw = sampler({ dist: 'uniform', min: 0, max: 1 });
    for (let i = 0; i < expected.length; i++) expected[i] = draw(random);

    const unread = await build();
    expect(unread.store.save()['attribute:capacity']).toBeNull();
    expect(unread.store.attribute('capacity').subarray(0, 20_000)).toEqual(expected);

    const churned = await build();
    churned.membership.leave(churned.store.liveSlot(7));
    const slot = churned.membership.join();
    const values = churned.store.attribute('capacity');
    expect(values[7]).toBe(slot === 7 ? draw(random) : expected[7]);
    for (let i = 0; i < 20_000; i++) if (i !== 7) expect(values[i]).toBe(expected[i]);
  });
});

describe('run timings', () => {
  it('counts the time in cycles apart from the time in observations', async () => {
    const simulation = await build();
    expect(simulation.timings).toEqual({ cycleSeconds: 0, observerSeconds: 0 });
    simulation.observe(() => {});
    const observedOnce = simulation.timings.observerSeconds;
    expect(observedOnce).toBeGreaterThan(0);
    expect(simulation.timings.cycleSeconds).toBe(0);
    const started = performance.now();
    while (!simulation.done) simulation.advance(() => {});
    const elapsed = (performance.now() - started) / 1000;
    const { cycleSeconds, observerSeconds } = simulation.timings;
    expect(cycleSeconds).toBeGreaterThan(0);
    // Observed at cycle 2 only (cycle 0 above).
    expect(observerSeconds).toBeGreaterThan(observedOnce);
    expect(cycleSeconds + observerSeconds - observedOnce).toBeLessThanOrEqual(elapsed + 1e-3);
    expect(cycleSeconds + observerSeconds - observedOnce).toBeGreaterThan(0.5 * elapsed);
  });
});
