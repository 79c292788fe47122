import { Simulation, type SimulationOptions } from '../engine/simulation.js';
import { ScenarioError } from '../engine/errors.js';
import type { LoadedScenario } from './load.js';
import { estimateMemory, formatBytes, measureBuild, PROBE_SLOTS, type MemoryEstimate } from './memory.js';

/**
 * Builds the run a loaded scenario describes, without running it. A run that cannot
 * fit in memory is refused before anything big is allocated; a problem found while
 * building is located at its key (the file and line, or `--set`/`--seed`).
 */
export function buildSimulation(loaded: LoadedScenario, options: SimulationOptions = {}): Simulation {
  checkMemory(loaded);
  return build(loaded, options);
}

/** A built run and what it needs in memory (measured when small enough to build at once, else estimated). */
export interface MeasuredBuild {
  readonly simulation: Simulation;
  readonly memory: MemoryEstimate;
}

/** buildSimulation, also measuring the memory of the build when it was not estimated beforehand. */
export function buildMeasured(loaded: LoadedScenario): MeasuredBuild {
  const memory = checkMemory(loaded);
  if (loaded.scenario.capacity > PROBE_SLOTS) return { simulation: build(loaded), memory };
  const { result, bytes } = measureBuild(() => build(loaded));
  return { simulation: result, memory: { ...memory, bytes } };
}

/** Estimates the memory a run needs and refuses it, at `size` (or `capacity`), when it exceeds the machine's. */
export function checkMemory(loaded: LoadedScenario): MemoryEstimate {
  const { scenario, registry } = loaded;
  const memory = estimateMemory(scenario, registry);
  if (memory.bytes > memory.availableBytes) {
    const key = sizingKey(scenario);
    const nodes = scenario.capacity.toLocaleString('en-US');
    const what = key === 'capacity' ? `with room for ${nodes} nodes` : `of ${nodes} nodes`;
    const how = memory.lowerBound ? 'at least, from its node table alone' : `estimated from a ${memory.measuredSlots.toLocaleString('en-US')}-node build`;
    throw loaded.locate(new ScenarioError(key, `a run ${what} needs about ${formatBytes(memory.bytes)} (${how}); this machine has ${formatBytes(memory.availableBytes)}`));
  }
  return memory;
}

function build(loaded: LoadedScenario, options: SimulationOptions = {}): Simulation {
  try {
    return new Simulation(loaded.scenario, loaded.registry, options);
  } catch (error) {
    if (error instanceof ScenarioError) throw loaded.locate(error);
    if (isAllocationFailure(error)) {
      throw loaded.locate(new ScenarioError(sizingKey(loaded.scenario), `cannot allocate the run's state for ${loaded.scenario.capacity.toLocaleString('en-US')} nodes (${(error as Error).message}): lower it`));
    }
    throw error;
  }
}

/** A typed array too long for V8, or memory the system would not give. */
function isAllocationFailure(error: unknown): boolean {
  return error instanceof RangeError && /array buffer allocation failed|invalid typed array length|invalid array length|array buffer length/i.test(error.message);
}

/** The key that sets how many slots a run allocates: `capacity` when the scenario raises it above `size`. */
function sizingKey(scenario: LoadedScenario['scenario']): 'capacity' | 'size' {
  return scenario.capacity > scenario.size ? 'capacity' : 'size';
}
