import { deserialize } from 'node:v8';
import { isDeepStrictEqual, inspect } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import type { Scenario } from '../../src/engine/config.js';
import type { ProtocolContext, ProtocolInstance } from '../../src/engine/protocol.js';
import { Registry } from '../../src/engine/registry.js';
import { Simulation, type SimulationOptions } from '../../src/engine/simulation.js';
import { typedFrom, type Section } from '../../src/engine/state.js';

/** One observed value, as the CSV has it: when, which observer, which metric, the value. */
export type Row = readonly [at: number, observer: string, metric: string, value: number];

/** A validated scenario and the types it resolves against: what a run is built from. */
export interface Buildable {
  readonly scenario: Scenario;
  readonly registry: Registry;
}

/** Changes a freshly created protocol instance (hides a capability, watches its steps). */
export type Instrument = (instance: ProtocolInstance, context: ProtocolContext) => void;

/**
 * A copy of `registry` whose protocol definitions hand each instance they create to
 * `instrument` first. Observers and controls are the same definitions.
 */
export function instrumented(registry: Registry, instrument: Instrument): Registry {
  const copy = new Registry();
  for (const definition of registry.protocols.values()) {
    copy.register({
      ...definition,
      create: (context, params) => {
        const instance = definition.create(context, params);
        instrument(instance, context);
        return instance;
      },
    });
  }
  for (const definition of [...registry.observers.values(), ...registry.controls.values()]) copy.register(definition);
  return copy;
}

/** Builds a run, its protocols instrumented if asked. */
export function build(run: Buildable, instrument?: Instrument, options: SimulationOptions = {}): Simulation {
  return new Simulation(run.scenario, instrument ? instrumented(run.registry, instrument) : run.registry, options);
}

/** Observes the initial state, then runs whole cycles (periods) until `cycle` or the end, keeping every row. */
export function runFromStart(simulation: Simulation, rows: Row[], cycle = Infinity): void {
  simulation.observe((at, observer, metric, value) => rows.push([at, observer, metric, value]));
  runOn(simulation, rows, cycle);
}

/** Runs whole cycles (periods) until `cycle` or the end, keeping every row (a resumed run: no initial observation). */
export function runOn(simulation: Simulation, rows: Row[], cycle = Infinity): void {
  const sink = (at: number, observer: string, metric: string, value: number) => rows.push([at, observer, metric, value]);
  while (!simulation.done && simulation.clock.cycle < cycle) simulation.advance(sink);
}

/** A checkpoint held in memory: the sections' bytes copied out of the live arrays. */
export function copySections(sections: readonly Section[]): Section[] {
  return sections.map((section) => ({ name: section.name, type: section.type, bytes: section.bytes.slice() }));
}

/** Rows as metrics.csv writes them (csv-stringify, the run's name and seed first). */
export function csvText(scenario: Scenario, rows: readonly Row[]): string {
  return rows.length === 0 ? '' : stringify(rows.map((row) => [scenario.name, scenario.seed, ...row]));
}

/** The first differing lines of two CSV texts, with a couple before them; '' when equal. */
export function rowDifferences(expected: string, found: string, show = 4): string {
  if (expected === found) return '';
  const a = expected.split('\n');
  const b = found.split('\n');
  let first = 0;
  while (a[first] === b[first]) first++;
  const lines = [`${a.length - 1} rows expected, ${b.length - 1} found; first difference at row ${first + 1}:`];
  for (let i = Math.max(0, first - 2); i < first + show && (i < a.length || i < b.length); i++) {
    if (a[i] === b[i]) lines.push(`    ${a[i]}`);
    else lines.push(`  - ${a[i] ?? '(none)'}`, `  + ${b[i] ?? '(none)'}`);
  }
  return lines.join('\n');
}

/**
 * Where two sets of sections differ, one line each: a section one lacks, another
 * type or length, the first differing element of an array, the differing keys of a
 * value. Empty when identical: arrays byte for byte (the event queue's events in
 * (time, sequence) order: see canonical), values once deserialised.
 */
export function sectionDifferences(expectedSections: readonly Section[], foundSections: readonly Section[], limit = 6): string[] {
  const problems: string[] = [];
  const [expected, found] = [canonical(expectedSections), canonical(foundSections)];
  const byName = new Map(found.map((section) => [section.name, section]));
  for (const section of expected) {
    const other = byName.get(section.name);
    byName.delete(section.name);
    if (!other) problems.push(`state "${section.name}" is missing`);
    else if (!sameSection(section, other)) problems.push(describeDifference(section, other));
  }
  for (const name of byName.keys()) problems.push(`state "${name}" is extra`);
  return problems.length > limit ? [...problems.slice(0, limit), `... and ${problems.length - limit} more`] : problems;
}

/**
 * Arrays are the same when their bytes are; values when they deserialise to equal
 * values: node:v8 may write one value in several ways (a number as an integer or a
 * double, an array dense or sparse), so equal values need not have equal bytes.
 */
function sameSection(a: Section, b: Section): boolean {
  if (a.type !== b.type) return false;
  return a.type === 'value' ? isDeepStrictEqual(deserialize(a.bytes), deserialize(b.bytes)) : sameBytes(a.bytes, b.bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function describeDifference(expected: Section, found: Section): string {
  const name = `state "${expected.name}"`;
  if (expected.type !== found.type) return `${name}: expected a ${expected.type}, found a ${found.type}`;
  if (expected.type === 'value') {
    const lines: string[] = [];
    valueDifferences(deserialize(expected.bytes), deserialize(found.bytes), '', lines);
    return `${name} differs: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; and ${lines.length - 3} more` : ''}`;
  }
  return `${name}: ${arrayDifference(typedFrom(expected.type, expected.bytes), typedFrom(found.type, found.bytes))}`;
}

const show = (value: unknown) => inspect(value, { breakLength: Infinity, maxArrayLength: 6, depth: 1 }).slice(0, 120);

/** The paths at which two deserialised values differ, each with both values. */
function valueDifferences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isDeepStrictEqual(a, b)) return;
  const at = path === '' ? '' : `${path}: `;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    out.push(`${at}${arrayDifference(a as unknown as ArrayLike<number>, b as unknown as ArrayLike<number>)}`);
  } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      valueDifferences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, out);
    }
  } else {
    out.push(`${at}expected ${show(a)}, found ${show(b)}`);
  }
}

/** How two arrays of numbers differ: their lengths, or how many elements and the first. */
function arrayDifference(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `expected ${a.length} elements, found ${b.length}`;
  let differing = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    if (first < 0) first = i;
    differing++;
  }
  if (first < 0) return 'the same values in other bytes (NaN payloads)';
  return `${differing} of ${a.length} elements differ, the first at [${first}]: expected ${a[first]}, found ${b[first]}`;
}

/** The fields of the event queue's pending events, one array each (see EventLoop.save). */
const queueFields = ['times', 'sequences', 'kinds', 'destinations', 'senders', 'payloads'];

/**
 * Sections in a form where equal states have equal bytes: the event queue lists its
 * pending events in the order of its internal layout, which a queue rebuilt from a
 * checkpoint need not share; what decides the run is each event's (time, sequence),
 * so the events are put in that order.
 */
export function canonical(sections: readonly Section[]): Section[] {
  const field = (key: string) => sections.find((section) => section.name === `engine/events.${key}`);
  const [times, sequences] = [field('times'), field('sequences')];
  if (!times || !sequences) return [...sections];
  const t = typedFrom(times.type, times.bytes) as Float64Array;
  const q = typedFrom(sequences.type, sequences.bytes) as Float64Array;
  const order = Array.from(t.keys()).sort((i, j) => t[i] - t[j] || q[i] - q[j]);
  return sections.map((section) => {
    const key = section.name.startsWith('engine/events.') ? section.name.slice('engine/events.'.length) : '';
    if (!queueFields.includes(key)) return section;
    const values = typedFrom(section.type, section.bytes) as Float64Array;
    const sorted = new (values.constructor as Float64ArrayConstructor)(order.map((i) => values[i]));
    return { ...section, bytes: new Uint8Array(sorted.buffer) };
  });
}
