import type { ScenarioFacts } from '../engine/protocol.js';
import { ScenarioError } from '../engine/errors.js';
import type { ScheduledSpec } from './schema.js';

/**
 * Whether a control may free a slot (remove a node for good): only then can a full
 * population take a new node. Suspending (outages, traces, sessions that come back
 * with their state) keeps the slot. A control type pcsim does not know (a plug-in's)
 * may free slots.
 */
function mayFreeSlots(spec: ScheduledSpec): boolean {
  const p = spec.params;
  switch (spec.type) {
    case 'churn': return (p.remove as number) > 0;
    case 'catastrophe': return (p.amount as number) > 0;
    case 'sessions': return p.off === undefined || p.returnAs === 'new';
    case 'outage': case 'partition': case 'trace': return false;
    default: return true;
  }
}

/** Whether a control may lower the number of live nodes, for good or for a while. */
function mayLowerLive(spec: ScheduledSpec): boolean {
  switch (spec.type) {
    case 'churn': return (spec.params.remove as number) > 0;
    case 'partition': return false;
    default: return true;
  }
}

/**
 * A churn control that adds nodes (without `substitute`) needs room at some point:
 * a free slot under capacity, and fewer live nodes than its `max`. There can never be
 * room when the population starts at that limit and no control ever lowers it (for
 * capacity: removes a node for good; for `max`, which counts live nodes: takes one
 * offline, even for a while): the adds would silently do nothing, so that is an error.
 */
export function checkRoomToAdd(controls: Readonly<Record<string, ScheduledSpec>>, facts: ScenarioFacts): void {
  const all = Object.values(controls);
  for (const [name, spec] of Object.entries(controls)) {
    const p = spec.params;
    if (spec.type !== 'churn' || p.substitute === true || !((p.add as number) > 0)) continue;
    const ceiling = Math.min(facts.capacity, (p.max as number | undefined) ?? facts.capacity);
    if (ceiling > facts.size) continue;
    if (all.some(ceiling < facts.capacity ? mayLowerLive : mayFreeSlots)) continue;
    const limit = ceiling < facts.capacity ? `max: ${ceiling}` : `capacity: ${facts.capacity}`;
    throw new ScenarioError(`controls.${name}.add`, `expected room for new nodes, found none: the run starts with ${facts.size} nodes, ${limit} allows no more, and no control removes nodes for good; raise ${ceiling < facts.capacity ? 'max' : 'capacity'} above ${facts.size}`);
  }
}
