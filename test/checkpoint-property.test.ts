import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../src/builtins.js';
import type { Section } from '../src/engine/state.js';
import { openCheckpoint, writeCheckpoint } from '../src/output/checkpoint.js';
import { loadScenario } from '../src/scenario/load.js';
import { scenarioFile, tempDir } from './helpers.js';
import {
  build, copySections, csvText, rowDifferences, runFromStart, runOn, sectionDifferences, type Buildable, type Row,
} from './contract/runs.js';

/**
 * Checkpoint and resume, in process: run to cycle (period) k, save every piece of
 * state, build the run afresh, restore, go on to the end. The CSV, as metrics.csv
 * has it, must be byte-identical to the uninterrupted run's, in both engines, over
 * churn, sessions, a trace, a partition, loss and messages in flight; fast-check
 * draws k, the scenario, the seed and whether the checkpoint goes through the
 * checkpoint file. `npm test` runs one case per scenario; the full tier
 * (PCSIM_TIER=full, see vitest.config.ts) runs many.
 */

const full = process.env.PCSIM_TIER === 'full';
const runs = Number(process.env.CHECKPOINT_RUNS ?? 120);

/** The built-ins and the rumour plug-in (and its observer). */
const { registry } = await loadScenario('scenarios/rumour.yaml', { registry: builtinRegistry() });

/** A scenario given as an object, written once and loaded with each seed. */
function written(scenario: Record<string, unknown>): (seed: number) => Promise<Buildable> {
  const file = scenarioFile(scenario);
  return async (seed) => loadScenario(file, { registry, seed });
}

/** A shipped scenario file, with overrides. */
function shipped(file: string, set: string[]): (seed: number) => Promise<Buildable> {
  return async (seed) => loadScenario(file, { registry, seed, set });
}

const regions = { region: { dist: 'discrete', values: [0, 1, 2] }, load: { dist: 'lognormal', mu: 0, sigma: 1 } };
const eventEngine = {
  engine: 'event',
  event: { period: 1000, jitter: 50, timeout: 600 },
  // Latencies up to most of a period, some past the timeout: messages in flight at every checkpoint.
  transport: { latency: { model: 'uniform', min: 10, max: 900 }, loss: 0.05 },
};

const scenarios: Record<string, (seed: number) => Promise<Buildable>> = {
  'cycle engine: churn, a partition, three protocols interleaved': written({
    name: 'cycle-mixed', size: 300, capacity: 360, cycles: 12, attributes: regions,
    protocols: {
      cyclon: { type: 'cyclon', cache: 10, shuffle: 4 },
      average: { type: 'aggregation', init: { kind: 'attribute', name: 'load' }, epoch: 5 },
      ranking: { type: 'slicing', method: 'ranking', attribute: 'load', window: 40 },
    },
    controls: {
      churn: { type: 'churn', remove: 0.04, add: 0.04, from: 2 },
      split: { type: 'partition', start: 3, end: 8, groups: [[0], [1, 2]] },
    },
    observers: {
      overlay: { type: 'overlay', every: 3, sample: 40 },
      average: { type: 'aggregation', protocol: 'average' },
      ranking: { type: 'slicing', protocol: 'ranking', slices: 4 },
      churn: { type: 'churn' },
    },
  }),
  'cycle engine: sessions, an outage, count and a rumour plug-in': written({
    name: 'cycle-sessions', size: 300, cycles: 12, attributes: regions,
    protocols: {
      newscast: { type: 'newscast', cache: 12 },
      count: { type: 'aggregation', function: 'count', leaders: 3, epoch: 4 },
      rumour: { type: 'rumour', seeds: 2 },
    },
    controls: {
      sessions: { type: 'sessions', on: { dist: 'exponential', mean: 5 }, off: { dist: 'exponential', mean: 2 } },
      outage: { type: 'outage', at: 4, back: 7, region: 2 },
    },
    observers: { count: { type: 'aggregation', protocol: 'count' }, informed: { type: 'informed' }, churn: { type: 'churn' } },
  }),
  'cycle engine: a trace (scenarios/trace.yaml)': shipped('scenarios/trace.yaml', [
    'cycles=40', 'protocols.average={type: aggregation, init: {kind: uniform}}', 'observers.average={type: aggregation, protocol: average}',
  ]),
  'event engine: loss, churn, a partition, messages in flight': written({
    name: 'event-mixed', size: 300, capacity: 400, cycles: 12, attributes: regions, ...eventEngine,
    protocols: {
      cyclon: { type: 'cyclon', cache: 12, shuffle: 5 },
      average: { type: 'aggregation', init: { kind: 'uniform' }, epoch: 6 },
      ordering: { type: 'slicing', method: 'ordering', attribute: 'load' },
    },
    controls: {
      churn: { type: 'churn', remove: 0.04, substitute: true, from: 2 },
      split: { type: 'partition', start: 4, end: 9, groups: [[0, 1], [2]] },
    },
    observers: {
      average: { type: 'aggregation', protocol: 'average' },
      overlay: { type: 'overlay', every: 3, sample: 40 },
      churn: { type: 'churn' },
    },
  }),
  'event engine: sessions, a catastrophe, a rumour plug-in': written({
    name: 'event-sessions', size: 300, cycles: 12, attributes: regions, ...eventEngine,
    protocols: {
      cyclon: { type: 'cyclon', cache: 12, shuffle: 5 },
      rumour: { type: 'rumour', seeds: 2 },
      average: { type: 'aggregation', init: { kind: 'peak' } },
    },
    controls: {
      // Every 50 ms rather than every ms: it scans every slot each time.
      sessions: { type: 'sessions', on: { dist: 'weibull', shape: 0.6, scale: 6 }, off: { dist: 'exponential', mean: 2 }, every: '50ms' },
      catastrophe: { type: 'catastrophe', at: 6, amount: 0.1 },
    },
    observers: { average: { type: 'aggregation', protocol: 'average' }, informed: { type: 'informed' }, churn: { type: 'churn', every: '500ms' } },
  }),
  'event engine: coordinates latency, upload queues, joiners in new slots': written({
    name: 'event-transport', size: 200, capacity: 320, cycles: 10, engine: 'event',
    event: { period: 1000, jitter: 50, timeout: 600 },
    // Joiners get a place of their own in the unit square; a slow upload link keeps messages queued across period ends.
    transport: { latency: { model: 'coordinates', base: 5, perUnit: 500 }, loss: 0.02, bandwidth: 0.05 },
    protocols: {
      cyclon: { type: 'cyclon', cache: 10, shuffle: 4 },
      average: { type: 'aggregation', init: { kind: 'uniform' } },
    },
    controls: { churn: { type: 'churn', remove: 0.03, add: 0.05, from: 1 } },
    observers: { average: { type: 'aggregation', protocol: 'average' }, churn: { type: 'churn' } },
  }),
  'event engine: a trace (scenarios/trace.yaml)': shipped('scenarios/trace.yaml', [
    'engine=event', 'cycles=25', 'transport.latency={model: uniform, min: 10, max: 900}', 'transport.loss=0.02',
    'protocols.average={type: aggregation, init: {kind: uniform}}', 'observers.average={type: aggregation, protocol: average}',
  ]),
};
const names = Object.keys(scenarios);

/** Each (scenario, seed)'s uninterrupted CSV: several k share it. */
const uninterrupted = new Map<string, { csv: string; sections: Section[] }>();

/** Where a checkpoint file goes, when one is written. */
const folder = tempDir('pcsim-checkpoint-');

/** The checkpoint's sections written to DIR/checkpoint and read back, as `pcsim resume` reads them. */
function throughFile(run: Buildable, sections: readonly Section[], k: number): Section[] {
  writeCheckpoint(folder, {
    pcsim: 'test', node: process.version, run_id: 'property', build: 'test', file: join(folder, 'scenario.yaml'), set: [], seed: run.scenario.seed, inputs: {},
    scenario: run.scenario, cycle: k, simulated_time_ms: 0, events_processed: 0, csv_bytes: 0, written: new Date(0).toISOString(),
  }, sections);
  return openCheckpoint(join(folder, 'checkpoint')).readSections();
}

/** Checkpoint after k, resume, finish: what differs from the uninterrupted run ('' when nothing). */
async function resumeDifference(name: string, seed: number, k: number, viaFile: boolean): Promise<string> {
  const run = await scenarios[name](seed);
  const key = `${name}/${seed}`;
  if (!uninterrupted.has(key)) {
    const rows: Row[] = [];
    const simulation = build(run);
    runFromStart(simulation, rows);
    uninterrupted.set(key, { csv: csvText(run.scenario, rows), sections: copySections(simulation.saveState()) });
  }
  const whole = uninterrupted.get(key)!;

  const rows: Row[] = [];
  const first = build(run);
  runFromStart(first, rows, k);
  const sections = viaFile ? throughFile(run, first.saveState(), k) : copySections(first.saveState());
  const resumed = build(run);
  resumed.restoreState(sections);
  runOn(resumed, rows);

  const what = `${name}, seed ${seed}, checkpoint after ${k}${viaFile ? ' through the file' : ''}`;
  const csv = rowDifferences(whole.csv, csvText(run.scenario, rows));
  if (csv) return `${what}: metrics.csv differs: ${csv}\n${sectionDifferences(whole.sections, copySections(resumed.saveState())).join('\n')}`;
  return '';
}

describe.skipIf(full)('checkpoint then resume gives the uninterrupted CSV (one case per scenario)', () => {
  it.each(names.map((name, i) => [name, i]))('%s', async (name, i) => {
    const cycles = (await scenarios[name](1)).scenario.cycles;
    expect(await resumeDifference(name, 1 + i, Math.floor(cycles / 2) - 1 + (i % 3), i % 2 === 0)).toBe('');
  });
});

describe.runIf(full)('checkpoint then resume gives the uninterrupted CSV (fast-check)', () => {
  it(`over k, scenario, seed and the checkpoint file (${runs} cases)`, async () => {
    const cases = fc.record({
      name: fc.constantFrom(...names),
      // A few seeds, so that the uninterrupted runs are shared; k from 0 (before the first cycle) to the end.
      seed: fc.integer({ min: 1, max: 6 }),
      k: fc.nat(),
      viaFile: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(cases, async ({ name, seed, k, viaFile }) => {
      const cycles = (await scenarios[name](seed)).scenario.cycles;
      expect(await resumeDifference(name, seed, k % (cycles + 1), viaFile)).toBe('');
    }), { numRuns: runs, seed: Number(process.env.FC_SEED ?? 20261211) });
  });
});
