import { deserialize, serialize } from 'node:v8';
import { SlabPool } from './slab-pool.js';

/** The typed arrays a plug-in may keep its state in. */
export type StateArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** A plain value a plug-in keeps between steps: numbers, strings, booleans, null, and arrays or objects of them. */
type Plain = number | string | boolean | null | readonly Plain[] | { readonly [key: string]: Plain };

/**
 * How a protocol, control or observer keeps the state that lasts between steps: it
 * declares it here, and the engine saves it in checkpoints and restores it on resume.
 * Nothing else is saved: scratch space used within one step may stay private.
 *
 * Names are the instance's own (the engine prefixes the instance's path); each may be
 * declared once.
 */
export interface StateDeclarations {
  /**
   * Keeps `array` (per-node state, usually `capacity` or `capacity * width` long) and
   * returns it. Its length is fixed; views of its memory (`bytesOf`) see restored data.
   */
  array<T extends StateArray>(name: string, array: T): T;
  /**
   * Numbers and other plain values kept between steps (counters, an epoch, a cursor):
   * returns `initial` itself; read and write its fields. Restored in place.
   */
  values<T extends Record<string, Plain>>(name: string, initial: T): T;
  /** A growable pool of fixed-width records (message payloads in the event engine), restored whole. */
  pool<T extends Int32Array | Float64Array>(name: string, width: number, make: (length: number) => T, capacity?: number): SlabPool<T>;
}

/** One saved piece of state: a typed array's bytes, or a serialised value. */
export interface Section {
  readonly name: string;
  /** The typed array's constructor name, or 'value' (node:v8 serialisation). */
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** What the engine itself keeps: saved and restored by code of its own (the node store, the event queue...). */
export interface EngineState {
  save(): unknown;
  restore(saved: unknown): void;
}

type Entry =
  | { kind: 'array'; array: StateArray }
  | { kind: 'values'; values: Record<string, Plain> }
  | { kind: 'pool'; pool: SlabPool<Int32Array | Float64Array> }
  | { kind: 'engine'; state: EngineState };

/**
 * Every piece of simulation state, by name: what a checkpoint holds. The engine
 * registers its own parts (clock, node store, random streams, event queue, network)
 * and hands each plug-in instance a StateDeclarations scoped to its path.
 */
export class WorldState {
  private readonly entries = new Map<string, Entry>();

  /** The declarations of the instance at `path` (`protocols.cyclon`): names become `path/name`. */
  scope(path: string, wrapArray?: (name: string, array: StateArray) => StateArray): StateDeclarations {
    const full = (name: string) => {
      if (typeof name !== 'string' || name === '' || name.includes('/')) throw new Error(`${path}: a state name must be a non-empty string without "/", found ${JSON.stringify(name)}`);
      return `${path}/${name}`;
    };
    return {
      array: <T extends StateArray>(name: string, array: T): T => {
        this.add(full(name), { kind: 'array', array });
        return (wrapArray ? wrapArray(full(name), array) : array) as T;
      },
      values: <T extends Record<string, Plain>>(name: string, initial: T): T => {
        this.add(full(name), { kind: 'values', values: initial });
        return initial;
      },
      pool: <T extends Int32Array | Float64Array>(name: string, width: number, make: (length: number) => T, capacity?: number) => {
        const pool = new SlabPool(width, make, capacity);
        this.add(full(name), { kind: 'pool', pool: pool as SlabPool<Int32Array | Float64Array> });
        return pool;
      },
    };
  }

  /** Registers a part of the engine's own state. */
  engine(name: string, state: EngineState): void {
    this.add(name, { kind: 'engine', state });
  }

  /** Every piece of state as sections. Arrays are views of the live memory: write them out before the run goes on. */
  save(): Section[] {
    const sections: Section[] = [];
    for (const [name, entry] of this.entries) {
      switch (entry.kind) {
        case 'array':
          sections.push({ name, type: entry.array.constructor.name, bytes: new Uint8Array(entry.array.buffer, entry.array.byteOffset, entry.array.byteLength) });
          break;
        case 'values':
          sections.push({ name, type: 'value', bytes: serialize(entry.values) });
          break;
        case 'pool': {
          const { data, free, used } = entry.pool.snapshot();
          sections.push({ name, type: 'value', bytes: serialize({ width: entry.pool.width, free, used, type: data.constructor.name }) });
          sections.push({ name: `${name}#data`, type: data.constructor.name, bytes: new Uint8Array(data.buffer, data.byteOffset, used * entry.pool.width * data.BYTES_PER_ELEMENT) });
          break;
        }
        case 'engine':
          sections.push(...engineSections(name, entry.state.save()));
          break;
      }
    }
    return sections;
  }

  /**
   * Puts saved state back in place. The world must have been built from the same
   * scenario: a missing, extra or differently shaped piece is an error naming it.
   */
  restore(sections: readonly Section[]): void {
    const byName = new Map(sections.map((section) => [section.name, section]));
    const take = (name: string): Section => {
      const section = byName.get(name);
      if (!section) throw new Error(`the checkpoint has no state "${name}"`);
      byName.delete(name);
      return section;
    };
    for (const [name, entry] of this.entries) {
      switch (entry.kind) {
        case 'array': {
          const section = take(name);
          const { array } = entry;
          if (section.type !== array.constructor.name || section.bytes.byteLength !== array.byteLength) {
            throw new Error(`state "${name}": expected a ${array.constructor.name} of ${array.length}, found a ${section.type} of ${section.bytes.byteLength} bytes`);
          }
          new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(section.bytes);
          break;
        }
        case 'values': {
          const saved = deserialize(valueBytes(name, take(name))) as Record<string, Plain>;
          for (const key of Object.keys(entry.values)) if (!Object.hasOwn(saved, key)) delete entry.values[key];
          Object.assign(entry.values, saved);
          break;
        }
        case 'pool': {
          const head = deserialize(valueBytes(name, take(name))) as { width: number; free: Int32Array; used: number; type: string };
          const data = take(`${name}#data`);
          const type = entry.pool.data.constructor.name;
          if (head.width !== entry.pool.width || head.type !== type || data.type !== type) {
            throw new Error(`state "${name}": expected records of ${entry.pool.width} in a ${type}, found ${head.width} in a ${data.type}`);
          }
          entry.pool.restore(typedFrom(head.type, data.bytes), head.free, head.used);
          break;
        }
        case 'engine': {
          entry.state.restore(readEngineSections(name, take));
          break;
        }
      }
    }
    if (byName.size > 0) throw new Error(`the checkpoint has state this run does not: ${[...byName.keys()].slice(0, 5).join(', ')}`);
  }

  private add(name: string, entry: Entry): void {
    if (this.entries.has(name)) throw new Error(`state "${name}" is declared twice`);
    this.entries.set(name, entry);
  }
}

/*
 * An engine part saves a plain object. Its typed arrays, at any depth, are written as
 * array sections of their own (`name.key.sub`) straight from memory; the rest, with the
 * list of those arrays, as one value section (`name`).
 */
function engineSections(name: string, saved: unknown): Section[] {
  const arrays: Record<string, string> = {};
  const sections: Section[] = [];
  const split = (value: unknown, path: string): unknown => {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      sections.push({ name: `${name}.${path}`, type: value.constructor.name, bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) });
      arrays[path] = value.constructor.name;
      return null;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const rest: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) rest[key] = split(inner, path === '' ? key : `${path}.${key}`);
    return rest;
  };
  const rest = split(saved, '');
  return [{ name, type: 'value', bytes: serialize({ rest, arrays }) }, ...sections];
}

function readEngineSections(name: string, take: (name: string) => Section): Record<string, unknown> {
  const { rest, arrays } = deserialize(valueBytes(name, take(name))) as { rest: Record<string, any>; arrays: Record<string, string> };
  for (const [path, type] of Object.entries(arrays)) {
    const section = take(`${name}.${path}`);
    if (section.type !== type) throw new Error(`state "${name}.${path}": expected a ${type}, found a ${section.type}`);
    const keys = path.split('.');
    let at = rest;
    for (const key of keys.slice(0, -1)) at = at[key];
    at[keys[keys.length - 1]] = typedFrom(type, section.bytes);
  }
  return rest;
}

/** A value section's bytes, checked to be one. */
function valueBytes(name: string, section: Section): Uint8Array {
  if (section.type !== 'value') throw new Error(`state "${name}": expected a value, found a ${section.type}`);
  return section.bytes;
}

const arrayTypes: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => StateArray> = {
  Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
};

/**
 * `bytes` as a typed array of `type`: a view when they are aligned for it, else a copy.
 * Whoever restores from it copies what it keeps (a restore never holds on to a
 * checkpoint's buffer), so the usual case costs no second copy of a large section.
 */
export function typedFrom(type: string, bytes: Uint8Array): any {
  const make = arrayTypes[type] as (typeof arrayTypes)[string] & { BYTES_PER_ELEMENT: number };
  if (!make) throw new Error(`unknown array type "${type}" in checkpoint`);
  const length = bytes.byteLength / make.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % make.BYTES_PER_ELEMENT === 0) return new make(bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new make(copy, 0, length);
}
