import { Simulation } from '../engine/simulation.js';
import { ScenarioError } from './errors.js';
import type { LoadedScenario } from './load.js';

/** Builds the run a loaded scenario describes; a problem found while building is located in the scenario file. */
export function buildSimulation(loaded: LoadedScenario): Simulation {
  try {
    return new Simulation(loaded.scenario, loaded.registry);
  } catch (error) {
    if (error instanceof ScenarioError) error.locate(loaded.file);
    throw error;
  }
}
