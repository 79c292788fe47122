import { Simulation } from '../src/engine/simulation.js';
import type { Registry } from '../src/engine/registry.js';
import { builtinRegistry } from '../src/builtins.js';
import { loadScenario } from '../src/scenario/load.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { stringify } from 'yaml';

const tempDirs: string[] = [];

/**
 * A fresh temporary folder, removed with everything in it after the test file's
 * last test (each test file that imports this module gets its own list).
 */
export function tempDir(prefix = 'pcsim-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far (also run after each test file). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

afterAll(removeTempDirs);

/** Writes a scenario object to a YAML file in a temporary folder and returns its path. */
export function scenarioFile(scenario: Record<string, unknown>, name = 'scenario.yaml'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, stringify(scenario));
  return file;
}

/** Loads a scenario object (validated like a file) and builds its simulation; `registry` adds types to resolve. */
export async function simulate(scenario: Record<string, unknown>, registry?: Registry): Promise<Simulation> {
  const { scenario: resolved, registry: resolvedRegistry } = await loadScenario(scenarioFile(scenario), { registry: registry ?? builtinRegistry() });
  return new Simulation(resolved, resolvedRegistry);
}

/** Runs a simulation to the end and returns its rows as `cycle observer metric -> value`. */
export function collect(simulation: Simulation): Map<string, number> {
  const rows = new Map<string, number>();
  simulation.run((cycle, observer, metric, value) => rows.set(`${cycle} ${observer} ${metric}`, value));
  return rows;
}
