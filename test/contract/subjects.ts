import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../../src/engine/registry.js';
import type { ProtocolInstance } from '../../src/engine/protocol.js';
import { loadScenario } from '../../src/scenario/load.js';
import { scenarioFile, tempDir } from '../helpers.js';
import { build, type Buildable } from './runs.js';

/**
 * The runs the contract checks are made on, derived from a protocol's registration
 * alone: its default parameters, a peer sampler (Cyclon) declared before it unless it
 * is one, uniform attributes `value` and `region`, churn, a partition between the two
 * regions, every observer that can measure it, in both engines.
 */

/** The instance name of the protocol under test, and of the sampler declared before it. */
export const SUBJECT = 'subject';
export const SAMPLER = 'sampler';

/**
 * Parameters for types whose defaults cannot run (a required parameter), or that have
 * a variant worth covering apart. Any other type runs with its defaults, `{}`.
 */
export const protocolFixtures: Readonly<Record<string, readonly Record<string, unknown>[]>> = {
  slicing: [{ method: 'ordering', attribute: 'value' }, { method: 'ranking', attribute: 'value', window: 50 }],
  aggregation: [{}, { function: 'count', leaders: 3, epoch: 3 }],
  'absolute-slicing': [{ size: 30, where: ['value >= 0.2'], epoch: 3 }],
  allocation: [{ requests: [{ at: 0, size: 20, where: ['region in {0}'] }, { at: 2, size: 40, duration: 5 }, { poisson: 0.5, size: 4, duration: 3 }], epoch: 4 }],
  topk: [{ attribute: 'value' }, { attribute: 'value', order: 'lowest', k: 3, spare: 2, expiry: 2 }],
  'oracle-allocation': [{ requests: [
    { at: 0, size: 30, where: ['value >= 0.3'] }, { at: 2, size: 40, duration: 5, priority: 1 },
    { poisson: 0.5, from: 1, count: 4, size: 10, duration: 4, where: ['region in {1}'] },
  ] }],
};

/** Controls' parameters: most have required ones (when, how many). */
export const controlFixtures: Readonly<Record<string, Record<string, unknown>>> = {
  churn: { remove: 0.05, add: 0.05, from: 2 },
  sessions: { on: { dist: 'exponential', mean: 4 }, off: { dist: 'exponential', mean: 2 }, record: 10000 },
  catastrophe: { at: 4, amount: 0.2 },
  outage: { at: 3, back: 8, region: 1 },
  partition: { start: 3, end: 9, groups: [[0], [1]] },
  trace: { file: smallTrace(), unit: 1 },
};

/** A trace of 100 nodes (at most the runs' size), each down a while and back, some twice: `node,up_start,up_end` in cycles. */
function smallTrace(): string {
  const file = join(tempDir('pcsim-contract-'), 'trace.csv');
  const lines = ['node,up_start,up_end'];
  for (let node = 0; node < 100; node++) lines.push(`n${node},0,${2 + (node % 7)}`, `n${node},${4 + (node % 5)},${8 + (node % 3) * 3}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Observers' parameters besides the protocol they measure: lighter than the defaults, for speed. */
export const observerFixtures: Readonly<Record<string, Record<string, unknown>>> = {
  overlay: { sample: 50 },
  subclouds: { allocator: 'measured' },
};

export type Engine = 'cycle' | 'event';

const SIZE = 100;
const CYCLES = 10;
/** The period (ms) of the event-engine runs the prefetch check makes. */
const DENSE_PERIOD = 10;

/** What every contract run shares: small, two regions, a value to aggregate or slice by. */
function base(name: string, engine: Engine, period = 1000): Record<string, unknown> {
  return {
    name,
    seed: 3,
    size: SIZE,
    capacity: SIZE + 20,
    cycles: CYCLES,
    attributes: {
      value: { dist: 'uniform', min: 0, max: 1 },
      region: { dist: 'discrete', values: [0, 1] },
    },
    ...(engine === 'event'
      ? {
        engine: 'event',
        // Latencies up to most of a period and replies later than the timeout: messages are in flight at every checkpoint.
        event: { period, jitter: Math.ceil(period / 20), timeout: period * 0.6 },
        transport: { latency: { model: 'uniform', min: Math.ceil(period / 100), max: period * 0.7 }, loss: 0.02 },
      }
      : {}),
  };
}

/**
 * Churn from cycle 2 (more joins than departures, so that joiners take slots no node
 * held before as well as freed ones), and the regions cut apart from 4 to 8: what the
 * first three checks run.
 */
const mixedControls = {
  churn: { type: 'churn', remove: 0.03, add: 0.04, from: 2 },
  split: { type: 'partition', start: 4, end: 8, groups: [[0], [1]] },
};

/**
 * The regions cut apart from cycle 1 on (and churn, so joiners land on their side;
 * sessions, so that some peers are offline): what the partition check runs.
 */
const splitControls = {
  churn: { type: 'churn', remove: 0.03, add: 0.03, from: 2 },
  sessions: { type: 'sessions', on: { dist: 'exponential', mean: 5 }, off: { dist: 'exponential', mean: 2 } },
  split: { type: 'partition', start: 1, groups: [[0], [1]] },
};

/** A protocol under test, in one engine, with one set of parameters. */
export interface Subject {
  readonly type: string;
  readonly params: Record<string, unknown>;
  readonly engine: Engine;
  /** `slicing {"method":"ranking",...} (event)` */
  readonly label: string;
  /** Churn, then a partition that heals. */
  readonly run: Buildable;
  /** A partition from cycle 1 to the end. */
  readonly split: Buildable;
  /**
   * `run` with a period of 10 ms (event engine): many events fall in each millisecond,
   * so that the event loop prefetches often (it reads ahead within the current one).
   */
  readonly dense?: Buildable;
  /** The optional capabilities its instance has. */
  readonly capabilities: { readonly stepAll: boolean; readonly prefetch: boolean; readonly prefetchPeers: boolean };
}

/** Loads (validates) a scenario given as an object, against `registry`. */
export async function load(scenario: Record<string, unknown>, registry: Registry): Promise<Buildable> {
  const loaded = await loadScenario(scenarioFile(scenario), { registry });
  return { scenario: loaded.scenario, registry: loaded.registry };
}

/**
 * Loads and builds, and observes the initial state once: whether a scenario can run
 * at all; `measuring`: and some observer emits a number (not only NaN), so that an
 * observer pointed at a protocol it cannot read is not taken for one that measures it.
 */
async function runs(scenario: Record<string, unknown>, registry: Registry, measuring = false): Promise<boolean> {
  try {
    let measured = false;
    build(await load(scenario, registry)).observe((_at, _observer, _metric, value) => { measured ||= !Number.isNaN(value); });
    return measured || !measuring;
  } catch {
    return false;
  }
}

/**
 * For each observer type, the first parameters among `{}` and `{protocol: p}` (for
 * each protocol `p` of the scenario) with which it builds and observes: the
 * observers that can measure this run.
 */
export async function observersFor(scenario: Record<string, unknown>, registry: Registry): Promise<Record<string, Record<string, unknown>>> {
  // The choice depends on the protocols alone: made once for each set of them.
  const key = JSON.stringify(scenario.protocols);
  let found = observerChoices.get(registry)?.get(key);
  if (!found) {
    found = chooseObservers({ ...scenario, controls: {} }, registry);
    observerChoices.set(registry, (observerChoices.get(registry) ?? new Map()).set(key, found));
  }
  return found;
}

const observerChoices = new WeakMap<Registry, Map<string, Promise<Record<string, Record<string, unknown>>>>>();

async function chooseObservers(scenario: Record<string, unknown>, registry: Registry): Promise<Record<string, Record<string, unknown>>> {
  const protocols = Object.keys(scenario.protocols as object).reverse();
  const chosen: Record<string, Record<string, unknown>> = {};
  for (const type of registry.observers.keys()) {
    for (const params of [...protocols.map((protocol) => ({ protocol })), {}]) {
      const observer = { type, ...observerFixtures[type], ...params };
      if (await runs({ ...scenario, observers: { [type]: observer } }, registry, true)) {
        chosen[type] = observer;
        break;
      }
    }
  }
  return chosen;
}

/** The protocols block for `type`: alone if it is a neighbour source, else after a Cyclon sampler. */
async function protocolsFor(type: string, params: Record<string, unknown>, registry: Registry): Promise<Record<string, unknown>> {
  const alone = { [SUBJECT]: { type, ...params } };
  try {
    const simulation = build(await load({ ...base(`probe-${type}`, 'cycle'), protocols: alone }, registry));
    if (simulation.protocols.get(SUBJECT)!.linkable) return alone;
  } catch { /* it needs a sampler: see below */ }
  return { [SAMPLER]: { type: 'cyclon' }, ...alone };
}

/**
 * The subjects of protocol `type`: one per fixture parameters (default `{}`) and
 * engine. An engine the protocol refuses (its scenario does not validate or build)
 * is left out; the cycle engine never is. Throws, naming the type, when even that
 * cannot be built.
 */
export async function subjectsOf(registry: Registry, type: string): Promise<Subject[]> {
  const definition = registry.protocols.get(type);
  if (!definition) throw new Error(`no protocol of type "${type}" is registered`);
  const variants = protocolFixtures[type] ?? [{}];
  if (!protocolFixtures[type] && !definition.params.safeParse({}).success) {
    throw new Error(`protocol "${type}" cannot run from its defaults (its parameters parse {} with errors): give it fixture parameters in protocolFixtures`);
  }
  const subjects: Subject[] = [];
  for (const params of variants) {
    const protocols = await protocolsFor(type, params, registry);
    const observers = await observersFor({ ...base(`probe-${type}`, 'cycle'), protocols, controls: mixedControls }, registry);
    for (const engine of ['cycle', 'event'] as const) {
      const label = `${type}${Object.keys(params).length > 0 ? ` ${JSON.stringify(params)}` : ''} (${engine})`;
      const name = `contract-${type}`;
      let run: Buildable, split: Buildable, dense: Buildable | undefined, instance: ProtocolInstance;
      try {
        run = await load({ ...base(name, engine), protocols, controls: mixedControls, observers }, registry);
        split = await load({ ...base(name, engine), protocols, controls: splitControls, observers }, registry);
        if (engine === 'event') dense = await load({ ...base(name, engine, DENSE_PERIOD), protocols, controls: mixedControls, observers }, registry);
        instance = build(run).protocols.get(SUBJECT)!;
      } catch (error) {
        if (engine === 'event') continue;
        throw new Error(`protocol "${type}" cannot be built for the contract checks: ${(error as Error).message}`);
      }
      const linkable = instance.linkable as { prefetchPeers?: unknown } | undefined;
      subjects.push({
        type, params, engine, label, run, split, dense,
        capabilities: {
          stepAll: typeof instance.stepAll === 'function',
          prefetch: typeof instance.prefetch === 'function',
          prefetchPeers: typeof linkable?.prefetchPeers === 'function',
        },
      });
    }
  }
  return subjects;
}

/** A run of Cyclon and averaging with control `type` (fixture parameters, else its defaults) and every observer that fits. */
export async function controlRun(registry: Registry, type: string, engine: Engine): Promise<Buildable> {
  const protocols = { [SAMPLER]: { type: 'cyclon' }, average: { type: 'aggregation', init: { kind: 'uniform' } } };
  const controls = { [type]: { type, ...(controlFixtures[type] ?? {}) } };
  const scenario = { ...base(`contract-${type}`, engine), protocols, controls };
  try {
    return await load({ ...scenario, observers: await observersFor(scenario, registry) }, registry);
  } catch (error) {
    throw new Error(`control "${type}" cannot run with ${JSON.stringify(controlFixtures[type] ?? {})} (give it parameters in controlFixtures): ${(error as Error).message}`);
  }
}

/**
 * A run of observer `type` with churn, over the fewest protocols it can measure: a
 * Cyclon sampler alone, or with one other protocol (each registered type, fixture
 * parameters else defaults), the observer given `{}` or `{protocol: <it>}`.
 */
export async function observerRun(registry: Registry, type: string, engine: Engine): Promise<Buildable> {
  const scenario = (protocols: Record<string, unknown>, observer: Record<string, unknown>) => ({
    ...base(`contract-${type}`, engine),
    protocols,
    controls: { churn: mixedControls.churn },
    observers: { [type]: { type, ...observerFixtures[type], ...observer } },
  });
  const sampler = { [SAMPLER]: { type: 'cyclon' } };
  const candidates: [Record<string, unknown>, Record<string, unknown>][] = [[sampler, {}]];
  for (const protocol of registry.protocols.keys()) {
    const protocols = { ...sampler, measured: { type: protocol, ...(protocolFixtures[protocol]?.[0] ?? {}) } };
    candidates.push([protocols, { protocol: 'measured' }], [protocols, {}]);
  }
  // Chosen once (in the cycle engine) for both engines.
  const chosen = chooseOnce(registry, type, async () => {
    for (const [i, [protocols, observer]] of candidates.entries()) if (await runs(scenario(protocols, observer), registry, true)) return i;
    return -1;
  });
  const index = await chosen;
  if (index < 0) throw new Error(`observer "${type}" measures none of: Cyclon alone, or with one other protocol, given {} or {protocol: <it>}`);
  return load(scenario(...candidates[index]), registry);
}

const observerCandidates = new WeakMap<Registry, Map<string, Promise<number>>>();

function chooseOnce(registry: Registry, type: string, choose: () => Promise<number>): Promise<number> {
  if (!observerCandidates.has(registry)) observerCandidates.set(registry, new Map());
  const byType = observerCandidates.get(registry)!;
  if (!byType.has(type)) byType.set(type, choose());
  return byType.get(type)!;
}
