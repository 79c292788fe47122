import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildSimulation } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { loadScenario, type LoadOptions } from '../../src/index.js';
import { tempDir } from '../helpers.js';

/** Fast-check's seed: fixed so that CI runs the same cases; FUZZ_SEED=<n> explores others. */
export const fuzzSeed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261201;
/** Cases per property: Done-when 2 asks for at least 2000 of each kind per run. */
export const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 2000);
/** No case may take longer (ms): a slow case is a hang in the making. */
export const caseLimitMs = 5000;

/** A folder for one fuzz file, holding a copy of the shipped traces (scenarios refer to them relatively). */
export function fuzzDir(): string {
  const dir = tempDir('pcsim-fuzz-');
  cpSync('scenarios/traces', join(dir, 'traces'), { recursive: true });
  return dir;
}

/** What one case did: its time, and the error message if it failed. */
export interface Outcome { readonly ms: number; readonly error?: string }

/**
 * Loads and builds (never runs) a scenario file. Every failure must be a
 * ScenarioError whose message is one line starting with a location: a file in `dir`
 * (with its line when it is the scenario file), `--set` or `--seed`.
 */
export async function loadAndBuild(file: string, dir: string, options: LoadOptions = {}): Promise<Outcome> {
  const started = performance.now();
  let caught: unknown;
  try {
    buildSimulation(await loadScenario(file, options));
  } catch (error) {
    caught = error;
  }
  const ms = performance.now() - started;
  expect(ms, `case took ${ms.toFixed(0)} ms`).toBeLessThan(caseLimitMs);
  if (caught === undefined) return { ms };
  if (!(caught instanceof ScenarioError)) throw caught;
  const message = caught.message;
  expect(message).not.toMatch(/[\n\r]/);
  expect(message.length).toBeLessThan(1000);
  const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const location = new RegExp(`^(${escaped}/[^:]+?(:\\d+)?|--set|--seed): `);
  expect(message).toMatch(location);
  if (message.startsWith(`${file}:`) || message.startsWith(`${file} `)) expect(message).toMatch(new RegExp(`^${escaped}/[^:]+:\\d+: `));
  return { ms, error: message };
}

/** Tallies outcomes: how many failed cleanly, how many built, the slowest case, and the commonest messages' shapes. */
export class Tally {
  built = 0;
  failed = 0;
  slowestMs = 0;
  private readonly kinds = new Map<string, number>();
  /** One full message per kind, for reading. */
  readonly examples = new Map<string, string>();

  add(outcome: Outcome): void {
    this.slowestMs = Math.max(this.slowestMs, outcome.ms);
    if (outcome.error === undefined) { this.built++; return; }
    this.failed++;
    // The message without location and values: its kind.
    const kind = outcome.error.replace(/^[^ ]*: /, '').replace(/"[^"]*"|\d+(\.\d+)?/g, '#').slice(0, 70);
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (!this.examples.has(kind)) this.examples.set(kind, outcome.error);
  }

  get total(): number { return this.built + this.failed; }

  /** The commonest kinds of error, most frequent first. */
  topKinds(n: number): string[] {
    return [...this.kinds].sort((a, b) => b[1] - a[1]).slice(0, n).map(([kind, count]) => `${count}\t${kind}`);
  }

  summary(): string {
    return `${this.total} cases: ${this.failed} clean errors, ${this.built} built; slowest ${this.slowestMs.toFixed(0)} ms; ${this.kinds.size} kinds of error`;
  }
}

/** Node-prototype properties must stay untouched whatever the input. */
export function expectNoPrototypePollution(): void {
  const probe = {} as Record<string, unknown>;
  for (const key of ['size', 'x', 'type', 'cycles', 'polluted']) expect(probe[key]).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
}

// ---- Scenario mutations ----

/** The shipped scenarios (small enough to build at once) and a small base that uses most features. */
export function baseScenarios(): Record<string, unknown>[] {
  const shipped = readdirSync('scenarios')
    .filter((file) => file.endsWith('.yaml') && file !== 'rumour.yaml')
    .map((file) => parse(readFileSync(join('scenarios', file), 'utf8')) as Record<string, unknown>)
    .map((scenario) => {
      // At most a few hundred nodes, so that a valid mutant builds in milliseconds.
      const size = Math.min(Number(scenario.size), 200);
      return { ...scenario, size, ...(scenario.capacity !== undefined ? { capacity: 2 * size } : {}) };
    });
  return [...shipped, smallEventScenario, smallCycleScenario];
}

export const smallEventScenario: Record<string, unknown> = {
  name: 'fuzz-event', seed: 3, size: 40, capacity: 60, cycles: 5, engine: 'event',
  event: { period: 1000, jitter: 10, timeout: 500 },
  transport: { latency: { model: 'regions', matrix: [[10, 50], [50, 10]] }, loss: 0.01, bandwidth: 0 },
  attributes: { region: { dist: 'discrete', values: [0, 1], weights: [1, 1] }, capacity: { dist: 'pareto', alpha: 2 } },
  protocols: {
    cyclon: { type: 'cyclon', cache: 8, shuffle: 3, init: { topology: 'ring' }, join: { contacts: 2 } },
    avg: { type: 'aggregation', function: 'average', sampler: 'cyclon', init: { kind: 'uniform', a: 0, b: 1 } },
    slice: { type: 'slicing', method: 'ranking', attribute: 'capacity', sampler: 'cyclon', window: 10 },
  },
  controls: {
    churn: { type: 'churn', remove: 1, add: 2, every: 2, from: '1s', min: 5 },
    split: { type: 'partition', start: 2, end: 4, groups: [[0], [1]] },
    sessions: { type: 'sessions', on: { dist: 'exponential', mean: 3 }, off: { dist: 'weibull', shape: 0.5, scale: 2 } },
  },
  observers: {
    overlay: { type: 'overlay', sample: 10, sources: 1, every: 2 },
    avg: { type: 'aggregation', protocol: 'avg' },
    churn: { type: 'churn', every: '500ms', until: 4, final: true },
    slice: { type: 'slicing', protocol: 'slice', slices: 4 },
  },
};

export const smallCycleScenario: Record<string, unknown> = {
  name: 'fuzz-cycle', size: 30, capacity: 50, cycles: 4,
  attributes: { load: { dist: 'lognormal', mu: 0, sigma: 1 }, zone: { dist: 'uniform', min: 0, max: 3 } },
  protocols: {
    net: { type: 'newscast', cache: 6 },
    graph: { type: 'static', degree: 4 },
    count: { type: 'aggregation', function: 'count', sampler: 'net', epoch: 2, leaders: 2 },
    order: { type: 'slicing', method: 'ordering', attribute: 'load', sampler: 'graph' },
  },
  controls: {
    crash: { type: 'catastrophe', at: 2, amount: 0.3, select: 'top', attribute: 'load' },
    out: { type: 'outage', at: 1, back: 3, region: [1, 2], attribute: 'zone' },
    trace: { type: 'trace', file: 'traces/sample.avt', unit: 60 },
  },
  observers: {
    count: { type: 'aggregation', protocol: ['count'] },
    overlay: { type: 'overlay', protocol: 'graph', sample: 5, sources: 2, from: 1 },
  },
};

/** Every key path in a tree, parents first. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push([...prefix, i], ...pathsOf(item, [...prefix, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths.push([...prefix, key], ...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

/** Values of every kind a user (or a bad tool) may write, weighted toward the surprising. */
export const oddValues: readonly unknown[] = [
  0, 1, 2, 3, -1, -0.5, 0.5, 1.5, 7, 50, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 4294967296, 1e9, 1e12, 2 ** 53, 1e20, 1e308, -1e308,
  Number.MAX_SAFE_INTEGER, Number.MIN_VALUE,
  '', 'x', 'cyclon', 'oracle', 'region', 'capacity', 'top', 'event', '250ms', '2s', '1.5ms', '-3s', '1e400', '0x10', 'NaN',
  'traces/sample.avt', 'nope.avt', '/dev/zero', '/tmp', 'x'.repeat(300), 'ü∂ß\u2028', true, false, null,
  [], [1], ['a', 'b'], [[0], [1]], [[0, 1], [1, 0, 2]], {}, { type: 'cyclon' }, { dist: 'constant', value: 1 },
  { model: 'constant', value: 5 }, { kind: 'peak' }, { a: { b: { c: 1 } } },
];

/** One change to a parsed scenario; indices pick the target path (modulo the number of paths). */
export type TreeMutation =
  | { op: 'replace'; at: number; value: number }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: number }
  | { op: 'rename'; at: number; edit: number }
  | { op: 'copy'; at: number };

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('add' as const), at: fc.nat(), value: fc.nat(),
      key: fc.oneof(fc.constantFrom('every', 'from', 'until', 'final', 'type', 'size', 'evry', 'protocls', 'sampler', 'protocol', 'attribute', 'capacity', 'toString', 'hasOwnProperty', 'valueOf', '0', '1'), fc.string({ maxLength: 8 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), at: fc.nat(), edit: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), at: fc.nat() }) },
);

/** Applies tree mutations to a deep copy of `base`. */
export function mutateTree(base: Record<string, unknown>, mutations: readonly TreeMutation[]): Record<string, unknown> {
  const root = structuredClone(base);
  for (const m of mutations) {
    const paths = pathsOf(root);
    if (paths.length === 0) break;
    const path = paths[m.at % paths.length];
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], root);
    const key = path[path.length - 1];
    if (parent === null || typeof parent !== 'object') continue;
    switch (m.op) {
      case 'replace': parent[key] = structuredClone(oddValues[m.value % oddValues.length]); break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 'add': {
        const target = parent[key];
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[m.key] = structuredClone(oddValues[m.value % oddValues.length]);
        break;
      }
      case 'rename':
        if (!Array.isArray(parent) && typeof key === 'string' && key.length > 1) {
          const i = m.edit % key.length;
          const typo = m.edit % 2 === 0 ? key.slice(0, i) + key.slice(i + 1) : key.slice(0, i) + key[i] + key.slice(i);
          parent[typo] = parent[key];
          delete parent[key];
        }
        break;
      case 'copy':
        if (!Array.isArray(parent)) parent[`${String(key)}2`] = structuredClone(parent[key]);
        break;
    }
  }
  return root;
}

/** One change to YAML text: syntax damage, aliases, prototype keys, duplicated lines, odd bytes. */
export type TextMutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicateLine'; at: number }
  | { op: 'bytes'; at: number; bytes: number[] };

const yamlSnippets = [
  '[', ']', '{', '}', ':', ',', '&a ', '*a', '*b', '!', '!!binary ', '!!set ', '|', '>', "'", '"', '#', '%', '@', '`', '\t', '- ', '? ',
  '\n  ', '\n', ': :', '&x [*x]', '<<: *a\n', '---\n', '...\n', '\u0000', '\ufeff', '\r\n', '\u2028', '0x', '.inf', '.nan', '~',
  '\n__proto__: { size: 5 }\n', '\nconstructor: 1\n', '\nprototype: {}\n', '\n  __proto__: { every: 1 }\n',
  '\nb0: &b0 [1,1,1,1,1,1,1,1,1,1]\nb1: &b1 [*b0,*b0,*b0,*b0,*b0,*b0,*b0,*b0,*b0,*b0]\nb2: &b2 [*b1,*b1,*b1,*b1,*b1,*b1,*b1,*b1,*b1,*b1]\nb3: &b3 [*b2,*b2,*b2,*b2,*b2,*b2,*b2,*b2,*b2,*b2]\nb4: [*b3,*b3,*b3,*b3,*b3,*b3,*b3,*b3,*b3,*b3]\n',
  '\nuses: *later\nlater: &later 1\n', '\nx: &anchor { type: cyclon }\ny: *anchor\n',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
];

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...yamlSnippets), fc.string({ maxLength: 4 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicateLine' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.array(fc.constantFrom(0x00, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf4, 0xf8, 0xfe, 0xff, 0x0d, 0x09), { minLength: 1, maxLength: 3 }) }) },
);

/** Applies text mutations to YAML, giving the bytes of the file. */
export function mutateText(text: string, mutations: readonly TextMutation[]): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1);
    switch (m.op) {
      case 'insert': bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, 'utf8'), bytes.subarray(at)]); break;
      case 'delete': bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]); break;
      case 'truncate': bytes = bytes.subarray(0, at); break;
      case 'duplicateLine': {
        const lines = bytes.toString('latin1').split('\n');
        const i = m.at % lines.length;
        lines.splice(i, 0, lines[i]);
        bytes = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
      case 'bytes': bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]); break;
    }
  }
  return bytes;
}

/** Writes a scenario (object or bytes) to `dir/name` and returns the path. */
export function writeScenario(dir: string, name: string, content: Record<string, unknown> | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.isBuffer(content) ? content : stringify(content));
  return file;
}
