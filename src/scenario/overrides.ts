import { describeValue } from './describe-issue.js';
import { ScenarioError } from '../engine/errors.js';
import { MAX_DEPTH, parseYaml, reservedKeys, YamlProblem } from './yaml-tree.js';

export interface AppliedOverrides {
  /** Key path -> value text, in the order given (a path set twice keeps its first place, last value). */
  readonly applied: Record<string, string>;
  /** Paths the overrides set or created: a problem at or under one is the command line's. */
  readonly paths: readonly string[];
}

const isIndex = (segment: string) => /^(0|[1-9]\d{0,8})$/.test(segment);
const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] => value !== null && typeof value === 'object';

/**
 * Applies each `a.b.c=value` (`--set`) to the raw scenario, in order. The value is
 * read as YAML (numbers stay numbers; `{type: churn}` is a mapping). Missing keys
 * are created (`event.period=500` in a file without `event`, a whole new control);
 * a number addresses a list element (`plugins.0`, or one past the end to append).
 * Every problem is a ScenarioError located at `--set`.
 */
export function applyOverrides(raw: Record<string, unknown>, set: readonly string[]): AppliedOverrides {
  const applied: Record<string, string> = {};
  const paths: string[] = [];
  for (const assignment of set) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new ScenarioError('', `expected key.path=value, found ${JSON.stringify(assignment)}`, '--set');
    const keyPath = assignment.slice(0, eq);
    const valueText = assignment.slice(eq + 1);
    const keys = keyPath.split('.');
    const fail = (detail: string): never => { throw new ScenarioError(keyPath, detail, '--set'); };
    if (keys.some((key) => key === '')) fail('expected a key path of names separated by single dots');
    if (keys.length > MAX_DEPTH) {
      throw new ScenarioError(`${keys.slice(0, 3).join('.')}...`, `expected a key path at most ${MAX_DEPTH} keys deep (as a file may nest), found ${keys.length}`, '--set');
    }
    const reserved = keys.find((key) => reservedKeys.has(key));
    if (reserved !== undefined) fail(`unknown key ${JSON.stringify(reserved)} (a reserved name)`);

    // One override inside another's: the CSV columns would name a value the run did not use.
    const overlapping = Object.keys(applied).find((other) => other !== keyPath && (other.startsWith(`${keyPath}.`) || keyPath.startsWith(`${other}.`)));
    if (overlapping !== undefined) fail(`expected key paths that do not overlap, found ${overlapping} set too`);

    let value: unknown;
    try {
      value = parseYaml(valueText).value;
    } catch (error) {
      if (!(error instanceof YamlProblem)) throw error;
      fail(`expected a YAML value, found ${describeValue(valueText)} (${error.reason})`);
    }

    let node: Record<string, unknown> | unknown[] = raw;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const here = keys.slice(0, i + 1).join('.');
      const last = i === keys.length - 1;
      // What goes at `key`: the value, or a container to descend into (created when missing).
      const fresh = () => (last ? value : isIndex(keys[i + 1]) ? [] : {});
      if (Array.isArray(node)) {
        if (!isIndex(key) || Number(key) > node.length) {
          fail(`expected a list index at ${here}: ${node.length === 0 ? '0 (the list is empty)' : `0 to ${node.length - 1}, or ${node.length} to append`}, found ${JSON.stringify(key)}`);
        }
        const index = Number(key);
        if (last || !isContainer(node[index])) {
          if (!last && index < node.length && node[index] !== null) fail(`cannot set a key inside ${here}, which is ${describeValue(node[index])}`);
          node[index] = fresh();
          paths.push(here);
        }
        if (!last) node = node[index] as Record<string, unknown> | unknown[];
      } else {
        const existing = Object.hasOwn(node, key) ? node[key] : undefined;
        if (last || !isContainer(existing)) {
          if (!last && existing !== undefined && existing !== null) fail(`cannot set a key inside ${here}, which is ${describeValue(existing)}`);
          node[key] = fresh();
          paths.push(here);
        }
        if (!last) node = node[key] as Record<string, unknown> | unknown[];
      }
    }
    applied[keyPath] = valueText;
  }
  return { applied, paths };
}
