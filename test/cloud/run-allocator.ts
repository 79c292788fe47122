import type { MetricSink, Simulation } from '../../src/engine/simulation.js';
import { qualifies } from '../../src/cloud/allocator.js';
import { isAllocator } from '../../src/cloud/subcloud-protocol.js';
import type { Allocator } from '../../src/cloud/allocator.js';

/** The allocator instance `name` of a simulation, checked to be one. */
export function allocatorOf(simulation: Simulation, name: string): Allocator {
  const instance = simulation.protocols.get(name);
  if (!isAllocator(instance)) throw new Error(`protocol "${name}" is not an allocator`);
  return instance;
}

/**
 * What is wrong now, one line each (what the `subclouds` observer counts as
 * double_assigned and constraint_violations, exactly, with no allowance for
 * transients): live nodes claimed by a request they do not serve, or by two requests;
 * members not meeting their constraints; sizes that disagree with the owners.
 */
export function problems(simulation: Simulation, allocator: Allocator): string[] {
  const { store } = simulation;
  const { owner, size } = allocator.assignments;
  const found: string[] = [];
  const claimedBy = new Map<number, number>();
  allocator.forEachClaim?.((slot, request) => {
    if (store.alive[slot] === 0) return;
    if (owner[slot] !== request) found.push(`slot ${slot} claimed by request ${request}, serves ${owner[slot]}`);
    const earlier = claimedBy.get(slot);
    if (earlier !== undefined && earlier !== request) found.push(`slot ${slot} claimed by requests ${earlier} and ${request}`);
    claimedBy.set(slot, request);
  });
  const counted = new Int32Array(allocator.requests.length);
  for (let i = 0; i < store.size; i++) {
    const slot = store.liveSlot(i);
    const r = owner[slot];
    if (r < 0) continue;
    counted[r]++;
    if (!qualifies(store, allocator.requests[r], slot)) found.push(`slot ${slot} serves request ${r} without meeting ${allocator.requests[r].where.map((c) => c.text).join(', ')}`);
  }
  for (let r = 0; r < counted.length; r++) if (counted[r] !== size[r]) found.push(`request ${r}: ${size[r]} members counted, ${counted[r]} live nodes serve it`);
  return found;
}

/** Runs to the end, calling `after` after every cycle (period), observers' values to `sink`; returns the first problems found, if any. */
export function runChecking(simulation: Simulation, allocator: Allocator, after?: (cycle: number) => void, sink: MetricSink = () => {}): string[] {
  while (!simulation.done) {
    simulation.advance(sink);
    const found = problems(simulation, allocator);
    if (found.length > 0) return found.slice(0, 5).map((line) => `after cycle ${simulation.clock.cycle}: ${line}`);
    after?.(simulation.clock.cycle);
  }
  return [];
}
