import type { ProtocolInstance } from '../../src/engine/protocol.js';
import type { Simulation } from '../../src/engine/simulation.js';
import type { Section, StateArray } from '../../src/engine/state.js';
import {
  build, copySections, csvText, rowDifferences, runFromStart, runOn, sectionDifferences,
  type Buildable, type Instrument, type Row,
} from './runs.js';

/**
 * The contract checks. Each takes the run to check and the name of the protocol
 * instance under test, and returns the problems it found, one line each (none: the
 * protocol passes), so that the checks themselves can be tested on broken protocols.
 */

/** What a run left: its CSV rows and its final state. */
interface Outcome {
  readonly csv: string;
  readonly sections: Section[];
}

/** An uninterrupted run, with, after each cycle, what a checkpoint then holds and the rows so far (saving changes nothing). */
interface Uninterrupted extends Outcome {
  readonly checkpoints: readonly { readonly sections: Section[]; readonly rows: Row[] }[];
}

/** Runs from the start to the end; a run that throws is a problem. */
function outcome(run: Buildable, instrument?: Instrument): Outcome | string {
  try {
    const simulation = build(run, instrument);
    const rows: Row[] = [];
    runFromStart(simulation, rows);
    return { csv: csvText(run.scenario, rows), sections: copySections(simulation.saveState()) };
  } catch (error) {
    return `the run failed: ${(error as Error).message}`;
  }
}

/** Each run's uninterrupted outcome, made once: several checks compare with it. */
const uninterruptedRuns = new WeakMap<Buildable, Uninterrupted | string>();

/** The run as it goes without instruments, saving its state (a copy) after each cycle. */
function uninterrupted(run: Buildable): Uninterrupted | string {
  let result = uninterruptedRuns.get(run);
  if (result !== undefined) return result;
  try {
    const simulation = build(run);
    const rows: Row[] = [];
    const checkpoints: Uninterrupted['checkpoints'][number][] = [];
    simulation.observe((at, observer, metric, value) => rows.push([at, observer, metric, value]));
    for (;;) {
      checkpoints.push({ sections: copySections(simulation.saveState()), rows: [...rows] });
      if (simulation.done) break;
      runOn(simulation, rows, simulation.clock.cycle + 1);
    }
    result = { csv: csvText(run.scenario, rows), sections: checkpoints.at(-1)!.sections, checkpoints };
  } catch (error) {
    result = `the run failed: ${(error as Error).message}`;
  }
  uninterruptedRuns.set(run, result);
  return result;
}

/** How `found` differs from `expected`, each line prefixed by `what`. */
function differences(what: string, expected: Outcome | string, found: Outcome | string): string[] {
  if (typeof expected === 'string') return [`${what}: ${expected}`];
  if (typeof found === 'string') return [`${what}: ${found}`];
  const rows = rowDifferences(expected.csv, found.csv);
  return [
    ...(rows ? [`${what}: the metrics differ: ${rows}`] : []),
    ...sectionDifferences(expected.sections, found.sections).map((line) => `${what}: ${line}`),
  ];
}

/** An instrument that removes methods from the instance named `name` (and from its neighbour list). */
export function hiding(name: string, methods: readonly string[]): Instrument {
  return (instance, context) => {
    if (context.name !== name) return;
    for (const target of new Set([instance, instance.linkable ?? instance])) {
      for (const method of methods) {
        if (method in target) Object.defineProperty(target, method, { value: undefined, writable: true, configurable: true });
      }
    }
  };
}

/** (a) The batched step (stepAll) gives exactly what the plain step gives (cycle engine). */
export function batchedMatchesPlain(run: Buildable, name: string): string[] {
  return differences('step alone, against stepAll', uninterrupted(run), outcome(run, hiding(name, ['stepAll'])));
}

/** (b) Prefetching (prefetch, and the neighbour list's prefetchPeers) changes nothing (event engine). */
export function prefetchChangesNothing(run: Buildable, name: string): string[] {
  return differences('prefetch off, against on', uninterrupted(run), outcome(run, hiding(name, ['prefetch', 'prefetchPeers'])));
}

/**
 * (c) Checkpoint after `k` cycles (periods), resume in a freshly built run, go on to
 * the end: the rows and the final state are the uninterrupted run's. Also, restoring
 * puts back exactly what was saved.
 */
export function resumeMatchesUninterrupted(run: Buildable, k: number): string[] {
  const whole = uninterrupted(run);
  const what = `resumed after ${k}, against uninterrupted`;
  if (typeof whole === 'string') return [`${what}: ${whole}`];
  const checkpoint = whole.checkpoints[k];
  if (!checkpoint) return [`${what}: the run ended after ${whole.checkpoints.length - 1}`];
  const problems: string[] = [];
  let resumed: Outcome;
  try {
    const simulation = build(run);
    simulation.restoreState(copySections(checkpoint.sections));
    problems.push(...sectionDifferences(checkpoint.sections, copySections(simulation.saveState())).map((line) => `restoring the checkpoint after ${k}: ${line}`));
    const rows = [...checkpoint.rows];
    runOn(simulation, rows);
    resumed = { csv: csvText(run.scenario, rows), sections: copySections(simulation.saveState()) };
  } catch (error) {
    return [`${what}: the run failed: ${(error as Error).message}`];
  }
  return [...problems, ...differences(what, whole, resumed)];
}

/** Handlers during which a protocol acts for one node: the slot is their first argument. */
const handlers = ['step', 'onTimer', 'onMessage', 'onTimeout'] as const;

/**
 * (d) While the regions are cut apart, a step (or handler) of the node in slot s
 * touches no declared per-slot state of a node s cannot reach: no read, no write.
 * Every typed array any instance declares whose length is a multiple of the capacity
 * is watched (slot = index / (length / capacity)); stepAll is hidden, so that each
 * step is one node's. Accesses outside the protocol's steps (joins, observers) are
 * not counted.
 */
export function respectsPartition(run: Buildable, name: string): string[] {
  const capacity = run.scenario.capacity;
  let simulation: Simulation | undefined;
  let acting = -1;
  const seen = new Map<string, { count: number; example: string }>();

  const touch = (array: string, index: number, slot: number, how: 'read' | 'wrote') => {
    if (acting < 0 || slot === acting || slot >= capacity || simulation!.network.reachable(acting, slot)) return;
    const key = `${how} ${array}`;
    const entry = seen.get(key);
    if (entry) entry.count++;
    else {
      const network = simulation!.network;
      seen.set(key, {
        count: 1,
        example: `at cycle ${simulation!.clock.cycle}, slot ${acting} (group ${network.group(acting)}) ${how} [${index}], slot ${slot}'s (group ${network.group(slot)})`,
      });
    }
  };
  const wrapState = (array: string, values: StateArray): StateArray => {
    if (values.length === 0 || values.length % capacity !== 0) return values;
    return watched(values, values.length / capacity, (index, slot, how) => touch(array, index, slot, how));
  };
  const instrument: Instrument = (instance, context) => {
    hiding(name, ['stepAll'])(instance, context);
    if (context.name !== name) return;
    const target = instance as unknown as Record<string, unknown>;
    for (const handler of handlers) {
      const original = instance[handler] as ((slot: number, ...rest: number[]) => void) | undefined;
      if (typeof original !== 'function') continue;
      target[handler] = function actingFor(this: ProtocolInstance, slot: number, ...rest: number[]) {
        const outer = acting;
        acting = slot;
        try {
          original.call(this, slot, ...rest);
        } finally {
          acting = outer;
        }
      };
    }
  };

  try {
    simulation = build(run, instrument, { wrapState });
    runFromStart(simulation, []);
  } catch (error) {
    return [`with its state watched, the run failed: ${(error as Error).message}`];
  }
  return [...seen].map(([key, { count, example }]) => `${key} of an unreachable node ${count} times, e.g. ${example}`);
}

type Touch = (index: number, slot: number, how: 'read' | 'wrote') => void;

/** The index an element key names (`"12"` -> 12), or -1 for any other key. */
function elementIndex(key: string | symbol): number {
  if (typeof key !== 'string') return -1;
  const first = key.charCodeAt(0);
  if (first < 48 || first > 57) return -1;
  const index = Number(key);
  return Number.isInteger(index) && String(index) === key ? index : -1;
}

/** A relative index argument (negative: from the end), clamped to [0, length]. */
function position(value: unknown, length: number, otherwise: number): number {
  if (value === undefined) return otherwise;
  const n = Math.trunc(Number(value)) || 0;
  return n < 0 ? Math.max(0, length + n) : Math.min(n, length);
}

/**
 * `values` behind a Proxy that reports every element read and written (`width`
 * elements per slot), including through fill, set, copyWithin, at, subarray and slice.
 * Methods run on the array itself (a typed array method refuses a Proxy as `this`);
 * accessors (length, buffer) are read from it.
 */
export function watched<T extends StateArray>(values: T, width: number, touch: Touch): T {
  const touchRange = (from: number, to: number, how: 'read' | 'wrote') => {
    for (let slot = Math.floor(from / width); from < to && slot <= Math.floor((to - 1) / width); slot++) touch(Math.max(from, slot * width), slot, how);
  };
  const methods: Record<string, (target: T, original: (...args: any[]) => any) => (...args: any[]) => any> = {
    fill: (target, original) => (value, start, end) => {
      touchRange(position(start, target.length, 0), position(end, target.length, target.length), 'wrote');
      return original.call(target, value, start, end);
    },
    set: (target, original) => (source, offset = 0) => {
      touchRange(offset, offset + (source?.length ?? 0), 'wrote');
      return original.call(target, source, offset);
    },
    copyWithin: (target, original) => (to, start, end) => {
      const from = position(start, target.length, 0);
      const until = position(end, target.length, target.length);
      const at = position(to, target.length, 0);
      touchRange(from, until, 'read');
      touchRange(at, Math.min(target.length, at + until - from), 'wrote');
      return original.call(target, to, start, end);
    },
    at: (target, original) => (index) => {
      const i = Math.trunc(Number(index)) || 0;
      const element = i < 0 ? target.length + i : i;
      if (element >= 0 && element < target.length) touch(element, Math.floor(element / width), 'read');
      return original.call(target, index);
    },
    subarray: (target, original) => (begin, end) => {
      touchRange(position(begin, target.length, 0), position(end, target.length, target.length), 'read');
      return original.call(target, begin, end);
    },
  };
  methods.slice = methods.subarray;
  return new Proxy(values, {
    get(target, key) {
      const index = elementIndex(key);
      if (index >= 0) {
        if (index < target.length) touch(index, Math.floor(index / width), 'read');
        return target[index];
      }
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function' || key === 'constructor') return value;
      const original = value as (...args: any[]) => any;
      const method = typeof key === 'string' ? methods[key] : undefined;
      return method ? method(target, original) : original.bind(target);
    },
    set(target, key, value) {
      const index = elementIndex(key);
      if (index < 0) return Reflect.set(target, key, value);
      if (index < target.length) {
        touch(index, Math.floor(index / width), 'wrote');
        target[index] = value;
      }
      return true;
    },
  });
}
