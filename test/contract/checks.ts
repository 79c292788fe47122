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

/** What a run left: its CSV rows, its final state, and its neighbour lists as the protocols answer them. */
interface Outcome {
  readonly csv: string;
  readonly sections: Section[];
  readonly links: string[];
}

/**
 * Each neighbour list (of every protocol that has one) of every live node, as its
 * degree() and neighbor() answer: state kept outside the declarations that they read
 * shows here even when no other protocol or observer samples from it.
 */
function linksOf(simulation: Simulation): string[] {
  const { store } = simulation;
  const lines: string[] = [];
  for (const [name, instance] of simulation.protocols) {
    const linkable = instance.linkable;
    if (!linkable) continue;
    for (let slot = 0; slot < store.capacity; slot++) {
      if (!store.alive[slot]) continue;
      const degree = linkable.degree(slot);
      const neighbours = Array.from({ length: Math.max(0, degree) }, (_, i) => linkable.neighbor(slot, i));
      lines.push(`${name} slot ${slot} (node ${store.idOf[slot]}): ${degree} [${neighbours.join(' ')}]`);
    }
  }
  return lines;
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
    return { csv: csvText(run.scenario, rows), sections: copySections(simulation.saveState()), links: linksOf(simulation) };
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
    result = { csv: csvText(run.scenario, rows), sections: checkpoints.at(-1)!.sections, links: linksOf(simulation), checkpoints };
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
    ...linkDifferences(expected.links, found.links).map((line) => `${what}: ${line}`),
  ];
}

/** How many neighbour lists differ, and the first. */
function linkDifferences(expected: readonly string[], found: readonly string[]): string[] {
  if (expected.length !== found.length) return [`the neighbour lists differ: ${expected.length} expected, ${found.length} found`];
  const differing = expected.filter((line, i) => line !== found[i]).length;
  if (differing === 0) return [];
  const first = expected.findIndex((line, i) => line !== found[i]);
  return [`${differing} of ${expected.length} neighbour lists differ, the first: expected ${expected[first]}, found ${found[first]}`];
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

/**
 * (b) Prefetching (prefetch, and the neighbour list's prefetchPeers) changes nothing
 * (event engine), in a run where the event loop calls them at least `least` times
 * (a check that barely prefetches proves nothing).
 */
export function prefetchChangesNothing(run: Buildable, name: string, least = 100): string[] {
  let calls = 0;
  const counting: Instrument = (instance, context) => {
    if (context.name !== name) return;
    for (const target of new Set([instance, instance.linkable ?? instance]) as unknown as Set<Record<string, unknown>>) {
      for (const method of ['prefetch', 'prefetchPeers']) {
        const original = target[method];
        if (typeof original !== 'function') continue;
        target[method] = function counted(this: unknown, ...args: unknown[]) {
          calls++;
          return original.apply(this, args);
        };
      }
    }
  };
  const on = outcome(run, counting);
  const problems = differences('prefetch off, against on', on, outcome(run, hiding(name, ['prefetch', 'prefetchPeers'])));
  if (typeof on !== 'string' && calls < least) problems.push(`prefetch ran only ${calls} times (fewer than ${least}): the run checks too little of it`);
  return problems;
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
    resumed = { csv: csvText(run.scenario, rows), sections: copySections(simulation.saveState()), links: linksOf(simulation) };
  } catch (error) {
    return [`${what}: the run failed: ${(error as Error).message}`];
  }
  return [...problems, ...differences(what, whole, resumed)];
}

/** Handlers during which a protocol acts for one node: the slot is their first argument. */
const handlers = ['step', 'onTimer', 'onMessage', 'onTimeout'] as const;

/**
 * (d) While the regions are cut apart, a step (or handler) of the node in slot s
 * touches no declared per-slot state of a node s cannot reach (across the partition,
 * offline or gone): no read, no write; and no message it sends across the partition is
 * accepted by the transport (event engine). Every typed array any instance declares
 * whose length is a multiple of the capacity is watched (slot = index / (length /
 * capacity)); stepAll is hidden, so that each step is one node's. Accesses outside the
 * protocol's steps (joins, observers) are not counted.
 */
export function respectsPartition(run: Buildable, name: string): string[] {
  const capacity = run.scenario.capacity;
  let simulation: Simulation | undefined;
  let acting = -1;
  const seen = new Map<string, { count: number; example: string }>();

  const report = (key: string, example: () => string) => {
    const entry = seen.get(key);
    if (entry) entry.count++;
    else seen.set(key, { count: 1, example: example() });
  };
  const touch = (array: string, index: number, slot: number, how: 'read' | 'wrote') => {
    if (acting < 0 || slot === acting || slot >= capacity) return;
    const { network, store, clock } = simulation!;
    if (!store.alive[slot]) {
      const state = store.offline[slot] ? 'offline' : 'gone';
      report(`${how} ${array} of an offline or departed node`, () => `at cycle ${clock.cycle}, slot ${acting} ${how} [${index}], slot ${slot}'s (${state})`);
    } else if (!network.reachable(acting, slot)) {
      report(`${how} ${array} of an unreachable node`, () => `at cycle ${clock.cycle}, slot ${acting} (group ${network.group(acting)}) ${how} [${index}], slot ${slot}'s (group ${network.group(slot)})`);
    }
  };
  /** A send the transport accepts though a partition separates the nodes: the engine must drop it. */
  const sent = (from: number, to: number, accepted: boolean) => {
    const { network, store, clock } = simulation!;
    const target = store.slotOf(to);
    if (!accepted || !network.partitioned || target < 0 || network.reachable(from, target)) return;
    report('sent a message accepted by the transport to an unreachable node', () => `at ${clock.time} ms, slot ${from} (group ${network.group(from)}) to node ${to} in slot ${target} (group ${network.group(target)})`);
  };
  const wrapState = (array: string, values: StateArray): StateArray => {
    if (values.length === 0 || values.length % capacity !== 0) return values;
    return watched(values, values.length / capacity, (index, slot, how) => touch(array, index, slot, how));
  };
  const instrument: Instrument = (instance, context) => {
    hiding(name, ['stepAll'])(instance, context);
    if (context.name !== name) return;
    const transport = context.transport;
    if (transport) {
      const send = transport.send.bind(transport);
      transport.send = (from, to, kind, payload, bytes) => {
        const accepted = send(from, to, kind, payload, bytes);
        sent(from, to, accepted);
        return accepted;
      };
    }
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
  return [...seen].map(([key, { count, example }]) => `${key} ${count} times, e.g. ${example}`);
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
