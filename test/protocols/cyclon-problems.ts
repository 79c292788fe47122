import type { Cyclon } from '../../src/protocols/cyclon.js';
import type { simulate } from '../helpers.js';

/** Every way a live node's cache can be malformed, as a list of complaints (empty when sound). */
export function cacheProblems(cyclon: Cyclon, simulation: Awaited<ReturnType<typeof simulate>>): string[] {
  const { store } = simulation;
  const problems: string[] = [];
  for (let i = 0; i < store.size; i++) {
    const slot = store.liveSlot(i);
    const owner = store.idOf[slot];
    const degree = cyclon.degree(slot);
    if (degree > cyclon.cache) problems.push(`node ${owner} holds ${degree} > ${cyclon.cache} entries`);
    const seen = new Set<number>();
    for (let k = 0; k < degree; k++) {
      const id = cyclon.neighbor(slot, k);
      if (id === owner) problems.push(`node ${owner} holds itself`);
      if (seen.has(id)) problems.push(`node ${owner} holds ${id} twice`);
      if (id < 0 || id >= store.idsIssued) problems.push(`node ${owner} holds ${id}, which never existed`);
      seen.add(id);
    }
  }
  return problems;
}
