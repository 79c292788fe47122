import { z } from 'zod';
import { defineControl } from '../engine/protocol.js';
import { amountSchema, resolveAmount } from './amount.js';
import { withinRun } from './within-run.js';
import { checkSelect, rankingValues, selectParams, sortForSelect } from './select.js';

const params = z.strictObject({
  at: z.number().int().min(1).describe('cycle at whose start the nodes fail, at most cycles'),
  amount: amountSchema.positive().describe('nodes that fail (> 0): a count, or below 1 a fraction of the live nodes'),
  ...selectParams,
});

/** Many nodes fail at once, at random or correlated with an attribute (what breaks slicing). */
export const catastrophe = defineControl({
  type: 'catastrophe',
  description: 'a fraction or count of live nodes fail at once, at random or by attribute rank',
  params,
  check: (p, scenario) => [...withinRun('at', p.at, scenario), ...checkSelect(p)],
  create: (ctx, p) => {
    const values = rankingValues(ctx, p);
    const run = ctx.state.values('run', { done: false as boolean });
    return {
      execute(cycle) {
        // At the first run at or after `at` (in the event engine, runs need not fall on whole cycles).
        if (run.done || cycle < p.at) return;
        run.done = true;
        const { store, membership, random } = ctx;
        const victims = new Int32Array(store.size);
        const n = store.copyLiveSlots(victims);
        const count = Math.min(n, resolveAmount(p.amount, n, random));
        if (values === undefined || p.select === 'random') {
          for (let i = 0; i < count; i++) {
            const j = i + random.int(n - i);
            const t = victims[i]; victims[i] = victims[j]; victims[j] = t;
          }
        } else {
          sortForSelect(victims, values, p.select);
        }
        for (let i = 0; i < count; i++) membership.leave(victims[i], 'fail');
      },
    };
  },
});
