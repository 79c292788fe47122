import type { Distribution } from './distributions.js';
import type { EventSettings } from './event-loop.js';
import type { TransportSpec } from './transport.js';

// The engine's configuration: what a Simulation is built from. scenario/ translates
// YAML files (with their defaults, units and overrides) into it.

/**
 * When a control or observer runs, resolved to the engine's unit: cycles, or ms in the
 * event engine. Cycle (or time) k means: after k cycles (0 is the initial state).
 */
export interface Schedule {
  readonly every: number;
  readonly from: number;
  /** Last cycle (or time) to run at; none: the end of the run. */
  readonly until?: number;
  /** Also run at the end of the run when it is off the every/from grid. */
  readonly final: boolean;
}

export interface InstanceSpec { readonly type: string; readonly params: Record<string, unknown> }
export interface ScheduledSpec extends InstanceSpec { readonly schedule: Schedule }

/** A validated scenario with every default filled in. */
export interface Scenario {
  readonly name: string;
  /** Folder of the scenario file: relative paths in it (plug-ins, traces) resolve from here. */
  readonly dir: string;
  readonly seed: number;
  readonly size: number;
  readonly capacity: number;
  readonly cycles: number;
  readonly engine: 'cycle' | 'event';
  readonly event: EventSettings;
  readonly transport: TransportSpec;
  readonly plugins: readonly string[];
  readonly attributes: Readonly<Record<string, Distribution>>;
  readonly protocols: Readonly<Record<string, InstanceSpec>>;
  readonly controls: Readonly<Record<string, ScheduledSpec>>;
  readonly observers: Readonly<Record<string, ScheduledSpec>>;
  /** What must hold of the results, by name: checked by pcsim after the run (see src/expect/); the engine ignores it. */
  readonly expect?: Readonly<Record<string, unknown>>;
}

export function scheduled(schedule: Schedule, cycle: number, lastCycle: number): boolean {
  const until = schedule.until ?? lastCycle;
  if (schedule.final && cycle === lastCycle) return true;
  return cycle >= schedule.from && cycle <= until && (cycle - schedule.from) % schedule.every === 0;
}
