import type { Context } from '../engine/protocol.js';
import type { NodeStore } from '../engine/node-store.js';

/*
 * Faster id -> slot for the cloud's protocols. Once churn reuses slots the node store
 * answers through a hash table (16 MB at 10^6 nodes), where nearly every lookup is a
 * cache miss. Two guesses are checked first, each against the store's own record of the
 * slot (the id it holds, and whether it is live: ids are never reused, so a live slot
 * holding the id is the one slotOf would find): a hint (the slot the node was last seen
 * in), then the slot equal to the id (where the nodes present from the start still are).
 * A wrong guess costs one read of idOf and changes no result.
 */

/** store.slotOf(id), through `hint` (-1: none) or the slot equal to the id when either holds the live node. */
export function slotOfId(store: NodeStore, id: number, hint: number): number {
  const idOf = store.idOf;
  if (hint >= 0 && idOf[hint] === id && store.isLive(hint)) return hint;
  if (id >= 0 && id < store.capacity && idOf[id] === id && store.isLive(id)) return id;
  return store.slotOf(id);
}

/** ctx.contact(from, id), through the same guesses (reachability across a partition included). */
export function contactId(ctx: Context, from: number, id: number, hint: number): number {
  const { store, network } = ctx;
  const idOf = store.idOf;
  let slot = -1;
  if (hint >= 0 && idOf[hint] === id && store.isLive(hint)) slot = hint;
  else if (id >= 0 && id < store.capacity && idOf[id] === id && store.isLive(id)) slot = id;
  else return ctx.contact(from, id);
  return network.partitioned && !network.reachable(from, slot) ? -1 : slot;
}
