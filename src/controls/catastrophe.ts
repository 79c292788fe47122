import { z } from 'zod';
import { defineControl } from '../engine/protocol.js';
import { amountSchema, resolveAmount } from './amount.js';

const params = z.strictObject({
  at: z.number().int().min(1).describe('cycle at whose start the nodes fail'),
  amount: amountSchema.describe('nodes that fail: a count, or below 1 a fraction of the live nodes'),
  select: z.enum(['random', 'top', 'bottom']).default('random')
    .describe('which nodes: at random, or those with the highest (top) or lowest (bottom) attribute values'),
  attribute: z.string().optional().describe('the attribute that top and bottom rank by'),
});

/** Many nodes fail at once, at random or correlated with an attribute (what breaks slicing). */
export const catastrophe = defineControl({
  type: 'catastrophe',
  description: 'a fraction or count of live nodes fail at once, at random or by attribute rank',
  params,
  check: (p) => (p.select !== 'random' && !p.attribute
    ? [{ key: 'attribute', message: `expected an attribute name to rank by for select: ${p.select}, found nothing` }]
    : []),
  create: (ctx, p) => {
    let done = false;
    return {
      execute(cycle) {
        // At the first run at or after `at` (in the event engine, runs need not fall on whole cycles).
        if (done || cycle < p.at) return;
        done = true;
        const { store, membership, random } = ctx;
        const victims = new Int32Array(store.size);
        const n = store.copyLiveSlots(victims);
        const count = Math.min(n, resolveAmount(p.amount, n, random));
        if (p.select === 'random') {
          for (let i = 0; i < count; i++) {
            const j = i + random.int(n - i);
            const t = victims[i]; victims[i] = victims[j]; victims[j] = t;
          }
        } else {
          const values = store.attribute(p.attribute!);
          const sign = p.select === 'top' ? -1 : 1;
          // Ties broken by slot, so the choice never depends on sort stability.
          victims.sort((a, b) => sign * (values[a] - values[b]) || a - b);
        }
        for (let i = 0; i < count; i++) membership.leave(victims[i], 'fail');
      },
    };
  },
});
