// pcsim as a library: the engine, the plug-in interfaces, the built-ins and the runner.
import { builtinRegistry } from './builtins.js';
import { loadScenario as loadWith, type LoadedScenario, type LoadOptions as LoadWithOptions } from './scenario/load.js';

export { z } from 'zod';
export { NodeStore } from './engine/node-store.js';
export { Random, RandomStreams, type RandomState } from './engine/random.js';
export { distributionSchema, sampler, type Distribution } from './engine/distributions.js';
export { Simulation, type MetricSink } from './engine/simulation.js';
export { Registry, type AnyDefinition } from './engine/registry.js';
export type { StateDeclarations, StateArray, Section } from './engine/state.js';
export {
  defineProtocol, defineObserver, defineControl, randomNeighbor,
  type Context, type ProtocolContext, type Linkable, type Membership, type ParamProblem,
  type Transport, type Departure, type ScenarioFacts,
  type ProtocolDefinition, type ProtocolInstance, type Protocol, type BatchedStep, type Prefetching,
  type ObserverDefinition, type ObserverInstance,
  type ControlDefinition, type ControlInstance,
} from './engine/protocol.js';
export { builtinRegistry } from './builtins.js';
export { cyclon, Cyclon, type CyclonParams } from './protocols/cyclon.js';
export { oracle } from './protocols/oracle.js';
export { newscast } from './protocols/newscast.js';
export { overlay } from './observers/overlay.js';
export { aggregation, Aggregation, CountInstances, type AggregationFunction, type AggregationParams } from './protocols/aggregation.js';
export { staticGraph } from './protocols/static-graph.js';
export { slicing, Slicing, type SlicingParams } from './protocols/slicing.js';
export { slicingObserver } from './observers/slicing.js';
export { aggregationObserver } from './observers/aggregation.js';
export type { LoadedScenario } from './scenario/load.js';
export { ScenarioError } from './engine/errors.js';
export type { Scenario, Schedule, InstanceSpec, ScheduledSpec } from './scenario/schema.js';
export { runScenario, resumeRun, type RunOptions, type ResumeOptions, type RunProgress, type RunResult, type RunStatus } from './run.js';
export { checkpointFormat, openCheckpoint, CheckpointError, type CheckpointHeader, type CheckpointFile } from './output/checkpoint.js';
export type { Manifest, CheckpointRecord, ResumeRecord } from './output/manifest.js';
export { pcsimBuild, pcsimVersion } from './version.js';
export { describeError } from './engine/describe-error.js';
export { scenarioJsonSchema, type JsonSchema } from './cli/json-schema.js';

export interface LoadOptions extends Omit<LoadWithOptions, 'registry'> {
  /** The types a scenario may use; default: the built-in catalogue. */
  readonly registry?: LoadWithOptions['registry'];
}

/** Reads, overrides and validates a scenario file against the built-in types (or `options.registry`); loads its plug-ins. */
export function loadScenario(file: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  return loadWith(file, { ...options, registry: options.registry ?? builtinRegistry() });
}
