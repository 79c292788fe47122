import { z } from 'zod';
import { defineControl } from '../engine/protocol.js';
import { amountSchema, resolveAmount } from './amount.js';
import { checkSelect, rankingValues, selectParams, sortForSelect } from './select.js';

const params = z.strictObject({
  remove: amountSchema.default(0).describe('nodes removed each time: a count, or below 1 a fraction of the live nodes'),
  add: amountSchema.default(0).describe('nodes added each time: a count, or below 1 a fraction of the live nodes'),
  substitute: z.boolean().default(false).describe('add as many nodes as were removed (keeps the size constant); not together with add'),
  min: z.number().int().min(0).default(0).describe('never remove below this many live nodes'),
  max: z.number().int().positive().optional().describe('never add above this many live nodes; default: the capacity'),
  how: z.enum(['leave', 'fail']).default('fail').describe('whether removed nodes count as left or failed'),
  ...selectParams,
});

/**
 * Steady churn, PeerSim's DynamicNetwork: each time it runs, remove live nodes (random
 * ones, or the top or bottom of an attribute: churn correlated with it, as in the
 * slicing papers) and add new ones (fresh ids, fresh attributes, protocols
 * bootstrapped by onJoin).
 */
export const churn = defineControl({
  type: 'churn',
  description: 'steady churn: remove live nodes (random, or the top or bottom of an attribute) and add new ones each time it runs (PeerSim DynamicNetwork)',
  params,
  check: (p) => [
    ...(p.max !== undefined && p.max < p.min ? [{ key: 'max', message: `expected max >= min (${p.min}), found ${p.max}` }] : []),
    // With substitute, add would be ignored: say so rather than do nothing.
    ...(p.substitute && p.add > 0 ? [{ key: 'add', message: `expected add or substitute, not both (substitute adds as many as were removed), found add: ${p.add}` }] : []),
    ...checkSelect(p),
  ],
  create: (ctx, p) => {
    const values = rankingValues(ctx, p);
    let ranked = new Int32Array(0); // scratch for one call
    return {
      execute() {
        const { store, membership, random } = ctx;
        const removeCount = Math.min(resolveAmount(p.remove, store.size, random), Math.max(0, store.size - p.min));
        if (values === undefined || p.select === 'random') {
          for (let k = 0; k < removeCount; k++) membership.leave(store.liveSlot(random.int(store.size)), p.how);
        } else {
          if (ranked.length < store.size) ranked = new Int32Array(store.capacity);
          const n = store.copyLiveSlots(ranked);
          sortForSelect(ranked.subarray(0, n), values, p.select);
          for (let k = 0; k < removeCount; k++) membership.leave(ranked[k], p.how);
        }
        const wanted = p.substitute ? removeCount : resolveAmount(p.add, store.size, random);
        const room = Math.min(store.freeSlots, (p.max ?? store.capacity) - store.size);
        for (let k = 0; k < Math.min(wanted, room); k++) membership.join();
      },
    };
  },
});
