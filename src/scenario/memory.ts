import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Simulation } from '../engine/simulation.js';
import type { Registry } from '../engine/registry.js';
import type { Scenario } from './schema.js';

/** Scenarios up to this many slots are built as they are; larger ones are first built at this size to measure. */
export const PROBE_SLOTS = 10_000;

export interface MemoryEstimate {
  /** Bytes the run's state needs at full size (typed arrays: what grows with the number of nodes). */
  readonly bytes: number;
  /** Slots of the build measured: the scenario's own capacity, or the probe's. */
  readonly measuredSlots: number;
  /** True when measured on a bare node table because the probe build itself failed (a lower bound). */
  readonly lowerBound: boolean;
  /** Memory this process may use: the machine's, or its container's limit when lower. */
  readonly availableBytes: number;
}

let collect: (() => void) | undefined;

/**
 * A full garbage collection, so that what a build allocates can be told apart from
 * garbage left by earlier work. Node exposes `gc` only with --expose-gc; the flag can
 * be set at run time and takes effect in a new context.
 */
function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/** Bytes of typed arrays (outside the JS heap) that `build` allocates and keeps, measured around a full collection. */
export function measureBuild<T>(build: () => T): { result: T; bytes: number } {
  // Typed arrays are otherwise freed after a collection, concurrently: the count would lag.
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  try {
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    const result = build();
    collectGarbage();
    return { result, bytes: Math.max(0, process.memoryUsage().arrayBuffers - before) };
  } finally {
    setFlagsFromString('--concurrent-array-buffer-sweeping');
  }
}

export function availableMemory(): number {
  const limit = (process as { constrainedMemory?: () => number }).constrainedMemory?.() ?? 0;
  // Without a container limit, Node reports 0 or a huge number.
  return limit > 0 && limit < totalmem() ? limit : totalmem();
}

/**
 * How much memory a run of `scenario` needs, without building it at full size. Node
 * state lives in typed arrays sized by the capacity (the slots), whatever protocols,
 * observers and controls (plug-ins included) a scenario has, so the memory of a build
 * scaled down to PROBE_SLOTS slots (size scaled alike, within limits), times capacity / PROBE_SLOTS,
 * estimates it. If that probe fails (a constraint that needs the full size, such as a
 * trace with more nodes than the probe), the bare node table is measured instead: a
 * lower bound. Scenarios of at most PROBE_SLOTS slots are not probed (bytes: 0).
 */
export function estimateMemory(scenario: Scenario, registry: Registry): MemoryEstimate {
  const availableBytes = availableMemory();
  if (scenario.capacity <= PROBE_SLOTS) return { bytes: 0, measuredSlots: scenario.capacity, lowerBound: false, availableBytes };
  const scale = scenario.capacity / PROBE_SLOTS;
  // Scaled like the capacity, but not below 1,000 nodes (or size): small networks keep their size-bound parameters valid.
  const size = Math.min(scenario.size, PROBE_SLOTS, Math.max(Math.round(scenario.size / scale), 1000));
  const probe: Scenario = { ...scenario, size, capacity: PROBE_SLOTS };
  const bare: Scenario = { ...probe, protocols: {}, controls: {}, observers: {}, transport: { ...probe.transport, latency: { model: 'constant', value: 0 } } };
  for (const [candidate, lowerBound] of [[probe, false], [bare, true]] as const) {
    // Parameters valid at full size may not be at the probe's (a cache larger than its network): those are not built.
    if (!passesChecks(candidate, registry)) continue;
    try {
      // Attributes are drawn when first read: count them as a run that reads them would.
      const { bytes } = measureBuild(() => { const simulation = new Simulation(candidate, registry); simulation.store.settleAttributes(); return simulation; });
      return { bytes: Math.round(bytes * scale), measuredSlots: PROBE_SLOTS, lowerBound, availableBytes };
    } catch {
      // The full build reports the problem, if it is one at full size too.
    }
  }
  return { bytes: 0, measuredSlots: PROBE_SLOTS, lowerBound: true, availableBytes };
}

/** Whether every instance's own check accepts its parameters in `scenario` (run again at the probe's size). */
function passesChecks(scenario: Scenario, registry: Registry): boolean {
  const facts = { size: scenario.size, capacity: scenario.capacity, cycles: scenario.cycles, engine: scenario.engine, period: scenario.event.period };
  const tables = [[scenario.protocols, registry.protocols], [scenario.controls, registry.controls], [scenario.observers, registry.observers]] as const;
  try {
    for (const [specs, table] of tables) {
      for (const spec of Object.values(specs)) {
        if ((table.get(spec.type)?.check?.(spec.params, facts) ?? []).length > 0) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 260 GB, 24 GB, 512 MB: powers of 1000 with two or three significant digits. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toPrecision(2)} ${units[unit]}`;
}
