import { buildMeasured } from './build.js';
import { loadScenario, type LoadedScenario, type LoadOptions } from './load.js';
import type { Scenario } from './schema.js';

export interface Validation {
  readonly loaded: LoadedScenario;
  readonly scenario: Scenario;
  /** Bytes the run's state needs: measured on the build, or estimated from a smaller one (see estimateMemory). */
  readonly estimateBytes: number;
  /** Slots of the build the figure was measured on (the scenario's capacity when it was built at once). */
  readonly measuredSlots: number;
  /** True when the figure is a lower bound (the scaled-down build failed; only the node table was measured). */
  readonly lowerBound: boolean;
  /** Memory this process may use (the machine's, or its container's limit). */
  readonly availableBytes: number;
}

/**
 * `pcsim validate`: everything `run` does before the first cycle, without running:
 * reads and validates the scenario with its overrides, loads plug-ins, refuses a run
 * that cannot fit in memory, and builds it (protocols, observers and controls
 * created, references between them resolved, trace files read). Throws the
 * ScenarioError `run` would.
 */
export async function validateScenario(file: string, options: LoadOptions): Promise<Validation> {
  const loaded = await loadScenario(file, options);
  const { memory } = buildMeasured(loaded);
  return {
    loaded,
    scenario: loaded.scenario,
    estimateBytes: memory.bytes,
    measuredSlots: memory.measuredSlots,
    lowerBound: memory.lowerBound,
    availableBytes: memory.availableBytes,
  };
}
