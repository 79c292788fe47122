import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Scenario } from '../scenario/schema.js';

/**
 * A short id of a resolved scenario: the first 8 hex digits of the sha256 of its
 * canonical JSON (keys sorted). Two runs get the same id exactly when every resolved
 * key agrees, so sweep points (`--set`) and seeds get folders of their own. Left out:
 * `dir`, the scenario file's absolute folder, which differs between machines, and
 * `expect`, which checks the results without changing them.
 */
export function runId(scenario: Scenario): string {
  const { dir: _machineDependent, expect: _checksOnly, ...portable } = scenario;
  return createHash('sha256').update(canonicalJson(portable)).digest('hex').slice(0, 8);
}

/** `results/<name>-seed<seed>-<run id>`, with the name made safe to use as one folder name. */
export function defaultOutputFolder(scenario: Scenario): string {
  return join('results', `${safeFolderName(scenario.name)}-seed${scenario.seed}-${runId(scenario)}`);
}

/**
 * A scenario name as a single path component: only letters, digits, `.`, `_` and `-`
 * (anything else becomes `_`), no leading dot, at most 100 characters. A name such as
 * `../../x` can then never lead outside `results/`.
 */
export function safeFolderName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100);
  return safe === '' ? 'run' : safe;
}

/** JSON with object keys in sorted order at every depth, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  });
}
