import type { Topk } from '../../src/cloud/topk.js';
import type { Simulation } from '../../src/engine/simulation.js';
import { simulate } from '../helpers.js';

/**
 * A top-k query over a Cyclon overlay (c = 20, l = 5, or c = `cache` for tiny networks), ranked by a uniform `score`,
 * measured every cycle; `churn` replaces that fraction of the live nodes each cycle
 * (until cycle `churnUntil`, default the end).
 */
export function topkScenario(o: {
  size: number; cycles: number; seed?: number; engine?: 'cycle' | 'event';
  churn?: number; churnUntil?: number; cache?: number; topk?: Record<string, unknown>; score?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    seed: o.seed ?? 1,
    size: o.size,
    cycles: o.cycles,
    ...(o.engine === 'event' ? { engine: 'event' } : {}),
    attributes: { score: o.score ?? { dist: 'uniform', min: 0, max: 1 } },
    protocols: {
      cyclon: { type: 'cyclon', cache: o.cache ?? 20, shuffle: Math.min(5, o.cache ?? 20) },
      top: { type: 'topk', attribute: 'score', sampler: 'cyclon', ...o.topk },
    },
    ...(o.churn ? { controls: { churn: { type: 'churn', remove: o.churn, substitute: true, ...(o.churnUntil ? { until: o.churnUntil } : {}) } } } : {}),
    observers: { top: { type: 'topk', protocol: 'top' } },
    ...o.extra,
  };
}

/** Runs to the end: per observed cycle, precision and exact_fraction; and the simulation. */
export async function runTopk(scenario: Record<string, unknown>): Promise<{ simulation: Simulation; precision: number[]; exact: number[] }> {
  const simulation = await simulate(scenario);
  const precision: number[] = [], exact: number[] = [];
  simulation.run((cycle, _observer, metric, value) => (metric === 'precision' ? precision : exact)[cycle] = value);
  return { simulation, precision, exact };
}

/** The first cycle from which every live node holds exactly the true top-k to the end (-1: never). */
export function settledFrom(exact: readonly number[], from = 0): number {
  let settled = -1;
  for (let c = from; c < exact.length; c++) {
    if (exact[c] === 1) settled = settled < 0 ? c : settled;
    else settled = -1;
  }
  return settled;
}

/**
 * Broken invariants of every live node's list: sorted best first, ids unique, at most
 * `length` entries, none older than `maxAge` (engine time: a list drops expired entries
 * when its node next merges, so allow the expiry plus a period).
 */
export function listProblems(simulation: Simulation, maxAge: number, name = 'top'): string[] {
  const topk = simulation.protocols.get(name) as Topk;
  const { store } = simulation;
  const problems: string[] = [];
  for (let i = 0; i < store.size; i++) {
    const slot = store.liveSlot(i);
    const held = topk.held(slot);
    if (held < 1 || held > topk.length) problems.push(`slot ${slot} holds ${held}`);
    const ids = new Set<number>();
    for (let e = 0; e < held; e++) {
      ids.add(topk.entryId(slot, e));
      if (simulation.clock.time - topk.entryStamp(slot, e) > maxAge) problems.push(`slot ${slot} holds an entry ${simulation.clock.time - topk.entryStamp(slot, e)} old`);
      if (e > 0 && !topk.ranksBefore(topk.entryValue(slot, e - 1), topk.entryId(slot, e - 1), topk.entryValue(slot, e), topk.entryId(slot, e))) problems.push(`slot ${slot} unsorted at ${e}`);
    }
    if (ids.size !== held) problems.push(`slot ${slot} repeats an id`);
  }
  return problems;
}

/** Mean and minimum of values[from..to]. */
export function meanMin(values: readonly number[], from: number, to = values.length - 1): { mean: number; min: number } {
  const window = values.slice(from, to + 1);
  return { mean: window.reduce((a, b) => a + b, 0) / window.length, min: Math.min(...window) };
}
