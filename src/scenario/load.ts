import { basename, dirname, extname, resolve } from 'node:path';
import type { z } from 'zod';
import { describeError } from '../engine/describe-error.js';
import type { ScenarioFacts } from '../engine/protocol.js';
import type { AnyDefinition, Registry } from '../engine/registry.js';
import { checkRoomToAdd } from './cross-checks.js';
import { describeIssue, describeValue, innermostIssue, keysAt } from './describe-issue.js';
import { ScenarioError } from '../engine/errors.js';
import { applyOverrides } from './overrides.js';
import { loadPlugin } from './plugins.js';
import { readTextFile, UnreadableFile } from './read-text.js';
import { resolveSchedule, ScheduleProblem, writtenScheduleSchema } from './schedule.js';
import { MAX_RUN_MS, scenarioSchema, scheduleKeys, type InstanceSpec, type Scenario, type ScheduledSpec } from './schema.js';
import { didYouMean } from '../engine/suggest.js';
import { parseYaml, YamlProblem, type YamlTree } from './yaml-tree.js';

export interface LoadOptions {
  /** Replaces the scenario's seed (`--seed`). */
  readonly seed?: number;
  /** `key.path=value` overrides (`--set`), applied before validation. */
  readonly set?: readonly string[];
  /**
   * The types a scenario may use (the CLI passes the built-in catalogue); the plug-ins
   * a scenario names are added to a copy.
   */
  readonly registry: Registry;
}

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  readonly registry: Registry;
  /** The `--set` overrides as given, key path -> value text, in order. */
  readonly overrides: Readonly<Record<string, string>>;
  /** `--seed` and `--set` as given: loading the file again with them gives the same scenario. */
  readonly given: { readonly seed?: number; readonly set: readonly string[] };
  /** Line (1-based) of the key at a dotted path in the file, or of its nearest ancestor there. */
  lineOf(keyPath: string): number | undefined;
  /**
   * Says where the problem at `error.keyPath` comes from, unless the error already
   * names a place (a trace file's line): `--set` or `--seed` when they set that key,
   * else the scenario file and the key's line.
   */
  locate(error: ScenarioError): ScenarioError;
}

/**
 * Larger scenario files are refused at once: the YAML reader takes about a second per
 * MiB, and a real scenario is a few KB (a 1 MiB list holds some 150,000 numbers).
 */
const MAX_SCENARIO_BYTES = 2 ** 20;

type Path = readonly (string | number)[];
const dotted = (path: Path) => path.map(String).join('.');

/** Reads, overrides and validates a scenario file; loads its plug-ins. Throws ScenarioError on bad input. */
export async function loadScenario(file: string, options: LoadOptions): Promise<LoadedScenario> {
  const tree = readScenarioFile(file);
  const raw = tree.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError('', `expected a mapping of scenario keys, found ${raw === null ? 'an empty document' : describeValue(raw)}`, file, 1);
  }
  const { applied: overrides, paths: overridden } = applyOverrides(raw as Record<string, unknown>, options.set ?? []);
  if (options.seed !== undefined) (raw as Record<string, unknown>).seed = options.seed;

  const lineOf = (keyPath: string) => tree.lineOf(keyPath === '' ? [] : keyPath.split('.'));
  const locate = (error: ScenarioError): ScenarioError => {
    if (error.source !== undefined) return error;
    const under = (path: string) => error.keyPath === path || error.keyPath.startsWith(`${path}.`);
    if (options.seed !== undefined && under('seed')) return error.locate('--seed');
    if (overridden.some(under)) return error.locate('--set');
    return error.locate(file, lineOf(error.keyPath));
  };

  try {
    const registry = options.registry.clone();
    const scenario = await validate(raw as Record<string, unknown>, file, registry);
    const given = { ...(options.seed !== undefined ? { seed: options.seed } : {}), set: [...(options.set ?? [])] };
    return { file, scenario, registry, overrides, given, lineOf, locate };
  } catch (error) {
    if (error instanceof ScenarioError) throw locate(error);
    throw error;
  }
}

function readScenarioFile(file: string): YamlTree {
  let text: string;
  try {
    text = readTextFile(file, MAX_SCENARIO_BYTES);
  } catch (error) {
    if (!(error instanceof UnreadableFile)) throw error;
    throw new ScenarioError('', error.reason, file, error.line);
  }
  try {
    return parseYaml(text);
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    throw new ScenarioError('', error.reason, file, error.line);
  }
}

/** Validates the raw scenario: top level, then each instance block against its type's own schema. */
async function validate(raw: Record<string, unknown>, file: string, registry: Registry): Promise<Scenario> {
  requireTypes(raw, registry);
  const top = parseOrThrow(scenarioSchema, raw, [], Object.keys(scenarioSchema.shape));
  for (const [i, plugin] of top.plugins.entries()) await loadPlugin(resolve(dirname(file), plugin), `plugins.${i}`, registry);

  const size = top.size;
  const capacity = top.capacity ?? size;
  if (capacity < size) throw new ScenarioError('capacity', `expected at least size (${size}), found ${capacity}`);
  if (top.engine === 'event' && top.cycles * top.event.period > MAX_RUN_MS) {
    throw new ScenarioError('cycles', `expected a run of at most 2^50 ms (${Math.floor(MAX_RUN_MS / top.event.period)} periods of ${top.event.period} ms), found ${top.cycles}`);
  }
  const facts: ScenarioFacts = { size, capacity, cycles: top.cycles, engine: top.engine, period: top.event.period };

  const protocols: Record<string, InstanceSpec> = {};
  for (const [name, block] of Object.entries(top.protocols)) {
    protocols[name] = instance(block, ['protocols', name], registry.protocols, 'protocol', facts, []);
  }
  const withSchedule = (section: 'controls' | 'observers', table: Map<string, AnyDefinition>) => {
    const out: Record<string, ScheduledSpec> = {};
    for (const [name, block] of Object.entries(top[section])) {
      const path = [section, name];
      const scheduleBlock: Record<string, unknown> = {};
      const rest: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(block)) ((scheduleKeys as string[]).includes(key) ? scheduleBlock : rest)[key] = value;
      const spec = instance(rest as { type: string }, path, table, section.slice(0, -1), facts, scheduleKeys);
      const written = parseOrThrow(writtenScheduleSchema, scheduleBlock, path, scheduleKeys);
      // Controls whose changes fall at times of their own (sessions, traces) run every ms of the event engine by default.
      const continuous = (table.get(spec.type) as { continuous?: boolean } | undefined)?.continuous === true;
      try {
        out[name] = { ...spec, schedule: resolveSchedule(written, facts, section === 'controls' ? 'control' : 'observer', continuous) };
      } catch (error) {
        if (error instanceof ScheduleProblem) throw new ScenarioError(dotted([...path, error.key]), error.detail);
        throw error;
      }
    }
    return out;
  };
  const controls = withSchedule('controls', registry.controls);
  const observers = withSchedule('observers', registry.observers);
  checkRoomToAdd(controls, facts);

  return {
    name: top.name ?? basename(file, extname(file)),
    dir: dirname(resolve(file)),
    seed: top.seed,
    size,
    capacity,
    cycles: top.cycles,
    engine: top.engine,
    event: { period: top.event.period, jitter: top.event.jitter, timeout: top.event.timeout ?? top.event.period },
    transport: top.transport,
    plugins: top.plugins,
    attributes: top.attributes,
    protocols,
    controls,
    observers,
    expect: top.expect,
  };
}

/** A block without a `type` (often one that `--set` created): an error that lists the types it may have. */
function requireTypes(raw: Record<string, unknown>, registry: Registry): void {
  const tables = { protocols: registry.protocols, observers: registry.observers, controls: registry.controls } as const;
  for (const [section, table] of Object.entries(tables)) {
    const blocks = Object.hasOwn(raw, section) ? raw[section] : undefined;
    if (blocks === null || typeof blocks !== 'object' || Array.isArray(blocks)) continue;
    for (const [name, block] of Object.entries(blocks)) {
      if (block === null || typeof block !== 'object' || Array.isArray(block) || typeof (block as { type?: unknown }).type === 'string') continue;
      throw unknownType((block as { type?: unknown }).type, [section, name], table as Map<string, AnyDefinition>, section.slice(0, -1));
    }
  }
}

/** One protocol, observer or control block: a known type, parameters valid for it, and its definition's own checks. */
function instance(
  block: { type: string }, path: string[], table: Map<string, AnyDefinition>, kind: string,
  facts: ScenarioFacts, extraKeys: readonly string[],
): InstanceSpec {
  const definition = table.get(block.type);
  if (!definition) throw unknownType(block.type, path, table, kind);
  const { type, ...rest } = block;
  try {
    const shape = (definition.params as unknown as { shape?: Record<string, unknown> }).shape;
    const allowed = ['type', ...(shape ? Object.keys(shape) : []), ...extraKeys];
    const params = parseOrThrow(definition.params, rest, path, allowed) as Record<string, unknown>;
    const problems = definition.check?.(params, facts) ?? [];
    if (problems.length > 0) throw new ScenarioError(dotted([...path, problems[0].key]), problems[0].message);
    return { type, params };
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    // A plug-in's schema or check that throws: its problem, named at its block.
    throw new ScenarioError(dotted(path), `cannot check the parameters of ${kind} type "${type}": ${describeError(error)}`);
  }
}

function unknownType(type: unknown, path: string[], table: Map<string, AnyDefinition>, kind: string): ScenarioError {
  const known = [...table.keys()].map((t) => JSON.stringify(t)).join(', ');
  const found = typeof type === 'string' ? `${JSON.stringify(type)}${didYouMean(type, table.keys())}` : describeValue(type);
  return new ScenarioError(dotted([...path, 'type']), `expected ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} type (${known || 'none registered'}), found ${found}`);
}

/** Parses `value` with `schema`; the first issue becomes a ScenarioError at its key path, with the keys allowed there. */
function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, path: Path, allowedKeys: readonly string[]): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  // An unknown key first: a misspelt key is often why another one is missing.
  const issues = result.error.issues;
  const issue = innermostIssue(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]);
  const issuePath = [...path, ...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [])];
  const keysHere = issue.code !== 'unrecognized_keys' ? undefined
    : issue.path.length === 0 ? allowedKeys : keysAt(schema, issue.path, value);
  throw new ScenarioError(dotted(issuePath), describeIssue(issue, keysHere));
}
