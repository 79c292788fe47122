import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, parse as parseYamlValue, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { builtinRegistry } from '../builtins.js';
import type { ScenarioFacts } from '../engine/protocol.js';
import type { AnyDefinition, Registry } from '../engine/registry.js';
import { describeIssue } from './describe-issue.js';
import { loadPlugin } from './plugins.js';
import { ScenarioError } from './errors.js';
import { scenarioSchema, scheduleKeys, scheduleSchema, type InstanceSpec, type Scenario, type ScheduledSpec } from './schema.js';

export interface LoadOptions {
  /** Replaces the scenario's seed (`--seed`). */
  readonly seed?: number;
  /** `key.path=value` overrides (`--set`), applied before validation. */
  readonly set?: readonly string[];
  /** Types to resolve against; default: the built-ins. Plug-ins are added to a copy. */
  readonly registry?: Registry;
}

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  readonly registry: Registry;
  /** The `--set` overrides as given, key path -> value text, in order. */
  readonly overrides: Readonly<Record<string, string>>;
}

type Path = readonly (string | number)[];
const dotted = (path: Path) => path.map(String).join('.');

/** Reads, overrides and validates a scenario file; loads its plug-ins. Throws ScenarioError on bad input. */
export async function loadScenario(file: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read the file (${(error as Error).message})`;
    throw new ScenarioError('', reason, file);
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const position = lines.linePos(error.pos[0]);
    throw new ScenarioError('', `YAML syntax error: ${error.message.split('\n')[0]}`, `${file}:${position.line}:${position.col}`);
  }
  const lineOf = (path: Path) => lineOfKey(document, lines, path);

  try {
    const raw = document.toJS() as unknown;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ScenarioError('', `expected a mapping of scenario keys, found ${raw === null ? 'an empty document' : typeof raw}`);
    }
    const overrides = applyOverrides(raw as Record<string, unknown>, options.set ?? []);
    if (options.seed !== undefined) (raw as Record<string, unknown>).seed = options.seed;

    const registry = (options.registry ?? builtinRegistry()).clone();
    const scenario = await validate(raw as Record<string, unknown>, file, registry, new Set(Object.keys(overrides)));
    return { file, scenario, registry, overrides };
  } catch (error) {
    if (error instanceof ScenarioError && error.source === undefined) {
      error.locate(file, lineOf(error.keyPath ? error.keyPath.split('.') : []));
    }
    throw error;
  }
}

/** Sets each `a.b.c=value` in the raw scenario; the value is read as YAML (so numbers stay numbers). */
function applyOverrides(raw: Record<string, unknown>, set: readonly string[]): Record<string, string> {
  const applied: Record<string, string> = {};
  for (const assignment of set) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new ScenarioError('', `expected key.path=value, found ${JSON.stringify(assignment)}`, '--set');
    const keyPath = assignment.slice(0, eq);
    const valueText = assignment.slice(eq + 1);
    const keys = keyPath.split('.');
    let node: Record<string, unknown> = raw;
    for (let i = 0; i < keys.length - 1; i++) {
      const next = node[keys[i]];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        throw new ScenarioError(keyPath, `unknown key path: the scenario has no mapping at ${keys.slice(0, i + 1).join('.')}`, '--set');
      }
      node = next as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = parseYamlValue(valueText);
    applied[keyPath] = valueText;
  }
  return applied;
}

/** Validates the raw scenario: top level, then each instance block against its type's own schema. */
async function validate(raw: Record<string, unknown>, file: string, registry: Registry, overridden: Set<string>): Promise<Scenario> {
  const top = parseOrThrow(scenarioSchema, raw, [], Object.keys(scenarioSchema.shape), overridden);
  for (const [i, plugin] of top.plugins.entries()) await loadPlugin(resolve(dirname(file), plugin), `plugins.${i}`, registry);

  const size = top.size;
  const capacity = top.capacity ?? size;
  if (capacity < size) throw new ScenarioError('capacity', `expected at least size (${size}), found ${capacity}`);
  const facts: ScenarioFacts = { size, capacity, cycles: top.cycles, engine: top.engine, period: top.event.period };

  const protocols: Record<string, InstanceSpec> = {};
  for (const [name, block] of Object.entries(top.protocols)) {
    protocols[name] = instance(block, ['protocols', name], registry.protocols, 'protocol', facts, overridden);
  }
  const withSchedule = (section: 'controls' | 'observers', table: Map<string, AnyDefinition>) => {
    const out: Record<string, ScheduledSpec> = {};
    for (const [name, block] of Object.entries(top[section])) {
      const scheduleBlock: Record<string, unknown> = {};
      const rest: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(block)) ((scheduleKeys as string[]).includes(key) ? scheduleBlock : rest)[key] = value;
      const parsed = parseOrThrow(scheduleSchema, scheduleBlock, [section, name], scheduleKeys, overridden);
      // In the event engine, once a period by default; every ms for controls whose changes fall at times of their own.
      const continuous = (table.get(String(block.type)) as { continuous?: boolean } | undefined)?.continuous === true;
      const every = parsed.every ?? (top.engine === 'event' && !continuous ? top.event.period : 1);
      const schedule = { ...parsed, every };
      out[name] = { ...instance(rest as { type: string }, [section, name], table, section.slice(0, -1), facts, overridden), schedule };
    }
    return out;
  };
  const controls = withSchedule('controls', registry.controls);
  const observers = withSchedule('observers', registry.observers);

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
  };
}

function instance(
  block: { type: string }, path: string[], table: Map<string, AnyDefinition>, kind: string,
  facts: ScenarioFacts, overridden: Set<string>,
): InstanceSpec {
  const definition = table.get(block.type);
  if (!definition) {
    const known = [...table.keys()].map((t) => JSON.stringify(t)).join(', ');
    throw new ScenarioError([...path, 'type'].join('.'), `expected a ${kind} type (${known || 'none registered'}), found ${JSON.stringify(block.type)}`);
  }
  const { type, ...rest } = block;
  const shape = (definition.params as unknown as { shape?: Record<string, unknown> }).shape;
  const allowed = ['type', ...(shape ? Object.keys(shape) : [])];
  const params = parseOrThrow(definition.params, rest, path, allowed, overridden) as Record<string, unknown>;
  const problems = definition.check?.(params, facts) ?? [];
  if (problems.length > 0) throw new ScenarioError([...path, problems[0].key].join('.'), problems[0].message);
  return { type, params };
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, path: Path, allowedKeys: readonly string[], overridden: Set<string>): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const issuePath = [...path, ...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [])];
  const keyPath = dotted(issuePath);
  const keysHere = issue.code === 'unrecognized_keys' && issue.path.length === 0 ? allowedKeys : undefined;
  return throwAt(keyPath, describeIssue(issue, keysHere), overridden);
}

function throwAt(keyPath: string, detail: string, overridden: Set<string>): never {
  // A problem at a key the command line set is the command line's, not the file's.
  for (const key of overridden) {
    if (keyPath === key || keyPath.startsWith(`${key}.`)) throw new ScenarioError(keyPath, detail, '--set');
  }
  throw new ScenarioError(keyPath, detail);
}

/** Line of the key at `path` (or of its nearest existing parent), 1-based. */
function lineOfKey(document: Document, lines: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
