import { Simulation } from '../src/engine/simulation.js';
import { loadScenario } from '../src/scenario/load.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Writes a scenario object to a temporary YAML file and returns its path. */
export function scenarioFile(scenario: Record<string, unknown>, name = 'scenario.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'pcsim-test-'));
  const file = join(dir, name);
  writeFileSync(file, stringify(scenario));
  return file;
}

/** Loads a scenario object (validated like a file) and builds its simulation. */
export async function simulate(scenario: Record<string, unknown>): Promise<Simulation> {
  const { scenario: resolved, registry } = await loadScenario(scenarioFile(scenario));
  return new Simulation(resolved, registry);
}

/** Runs a simulation to the end and returns its rows as `cycle observer metric -> value`. */
export function collect(simulation: Simulation): Map<string, number> {
  const rows = new Map<string, number>();
  simulation.run((cycle, observer, metric, value) => rows.set(`${cycle} ${observer} ${metric}`, value));
  return rows;
}
