import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import type { Topk } from '../../src/cloud/topk.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { Simulation } from '../../src/engine/simulation.js';
import { loadScenario } from '../../src/scenario/load.js';
import { scenarioFile } from '../helpers.js';
import { listProblems, meanMin, runTopk, settledFrom, topkScenario } from './topk-scenario.js';

describe('topk (cycle engine)', () => {
  it('a top-10 query over 10^4 nodes: every live node holds exactly the true top-10 within 15 cycles, and keeps it', async () => {
    const { simulation, precision, exact } = await runTopk(topkScenario({ size: 10_000, cycles: 25 }));
    const settled = settledFrom(exact);
    expect(settled).toBeGreaterThan(0);
    expect(settled).toBeLessThanOrEqual(15);
    expect(precision[settled]).toBe(1);
    expect(listProblems(simulation, 13)).toEqual([]);
  });

  it('under 1% churn per cycle, departed nodes drop out: precision stays high, and is 1.0 again soon after the churn stops (10^4 nodes)', async () => {
    const { simulation, precision } = await runTopk(topkScenario({ size: 10_000, cycles: 65, churn: 0.01, churnUntil: 40 }));
    // Each cycle about 0.1 of the top-10 leaves and 0.1 joins: a departure lingers for
    // `expiry` cycles and an arrival takes the spreading time to be known, at 1/k each.
    const { mean, min } = meanMin(precision, 15, 40);
    expect(mean).toBeGreaterThan(0.8);
    expect(min).toBeGreaterThan(0.6);
    // Churn over: departed entries expire (12 cycles), their successors spread (about 10).
    const back = precision.findIndex((value, cycle) => cycle > 40 && value === 1);
    expect(back).toBeGreaterThan(40);
    expect(back).toBeLessThanOrEqual(40 + 12 + 12);
    expect(precision.slice(back).every((value) => value === 1)).toBe(true);
    expect(listProblems(simulation, 13)).toEqual([]);
  });

  it('under 0.1% churn per cycle precision stays above 0.95 on average (10^4 nodes)', async () => {
    // This run loses a top-10 node early: precision is 0.9 until its entry expires.
    const { precision } = await runTopk(topkScenario({ size: 10_000, cycles: 60, churn: 0.001 }));
    const { mean, min } = meanMin(precision, 15);
    expect(mean).toBeGreaterThan(0.95);
    expect(min).toBeGreaterThanOrEqual(0.89);
  });

  it('order lowest, ties by smaller id: with only two values, the k lowest are the smallest ids of value 0', async () => {
    const { simulation, exact } = await runTopk(topkScenario({
      size: 300, cycles: 20, score: { dist: 'discrete', values: [0, 1] }, topk: { k: 5, order: 'lowest' },
    }));
    expect(settledFrom(exact)).toBeGreaterThan(0);
    const topk = simulation.protocols.get('top') as Topk;
    const { store } = simulation;
    const lowest = Array.from({ length: store.size }, (_, i) => store.liveSlot(i))
      .filter((slot) => topk.attribute[slot] === 0).map((slot) => store.idOf[slot]).sort((a, b) => a - b).slice(0, 5);
    const slot = store.liveSlot(0);
    expect(Array.from({ length: topk.estimateSize(slot) }, (_, i) => topk.estimateId(slot, i))).toEqual(lowest);
  });

  it('with fewer live nodes than k, the true top-k is all of them; spare entries do not count in the estimate', async () => {
    const { simulation, precision, exact } = await runTopk(topkScenario({ size: 6, cycles: 10, cache: 4, topk: { k: 10, spare: 3 } }));
    expect(precision[10]).toBe(1);
    expect(exact[10]).toBe(1);
    const topk = simulation.protocols.get('top') as Topk;
    expect(topk.estimateSize(simulation.store.liveSlot(0))).toBe(6);
    const more = await runTopk(topkScenario({ size: 40, cycles: 12, topk: { k: 3, spare: 4 } }));
    expect(more.exact[12]).toBe(1);
    expect(listProblems(more.simulation, 13)).toEqual([]);
  });

  it('refuses, in one line, an observer pointed at another protocol and an undeclared attribute', async () => {
    const build = async (scenario: Record<string, unknown>) => {
      const { scenario: resolved, registry } = await loadScenario(scenarioFile(scenario), { registry: builtinRegistry() });
      return new Simulation(resolved, registry);
    };
    const wrongProtocol = topkScenario({ size: 50, cycles: 2, extra: { observers: { top: { type: 'topk', protocol: 'cyclon' } } } });
    await expect(build(wrongProtocol)).rejects.toThrow(ScenarioError);
    await expect(build(wrongProtocol)).rejects.toThrow(/^[^\n]*observers\.top\.protocol: expected the name of a topk protocol, found "cyclon"[^\n]*$/);
    const wrongAttribute = topkScenario({ size: 50, cycles: 2, topk: { attribute: 'speed' } });
    await expect(build(wrongAttribute)).rejects.toThrow(/protocols\.top\.attribute: expected a declared attribute \(score\), found "speed"/);
  });
});
