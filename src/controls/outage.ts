import { z } from 'zod';
import { defineControl } from '../engine/protocol.js';
import { withinRun } from './within-run.js';
import { declaredAttribute } from '../engine/attribute.js';

const params = z.strictObject({
  at: z.number().int().min(1).describe('cycle at whose start the region goes down, at most cycles'),
  back: z.number().int().min(1).optional().describe('cycle at whose start its nodes return with their ids and state, after at; default (or beyond the run): never'),
  region: z.union([z.number(), z.array(z.number()).min(1)]).describe('the region value(s) that go down'),
  attribute: z.string().default('region').describe('the attribute holding each node\'s region'),
});

/** A fire, flood or power cut: every node of a region fails at once, and may come back. */
export const outage = defineControl({
  type: 'outage',
  description: 'regional outage: the nodes of a region fail at once and optionally return',
  params,
  check: (p, scenario) => [
    ...withinRun('at', p.at, scenario),
    ...(p.back !== undefined && p.back <= p.at ? [{ key: 'back', message: `expected a cycle after at (${p.at}), found ${p.back}` }] : []),
  ],
  create: (ctx, p) => {
    const regions = new Set(Array.isArray(p.region) ? p.region : [p.region]);
    const values = declaredAttribute(ctx.store, p.attribute, `controls.${ctx.name}.attribute`);
    // `down`: the slots this control took down, in the order they return.
    const run = ctx.state.values('run', { phase: 'before' as 'before' | 'down' | 'over', down: [] as number[] });
    return {
      execute(cycle) {
        const { store, membership } = ctx;
        if (run.phase === 'before' && cycle >= p.at) {
          run.phase = 'down';
          for (let i = 0; i < store.size; i++) if (regions.has(values[store.liveSlot(i)])) run.down.push(store.liveSlot(i));
          for (const slot of run.down) membership.suspend(slot, 'fail');
        } else if (run.phase === 'down' && p.back !== undefined && cycle >= p.back) {
          run.phase = 'over';
          // Nodes removed for good meanwhile (by other churn) stay gone.
          for (const slot of run.down) if (store.offline[slot]) membership.resume(slot);
          run.down = [];
        }
      },
    };
  },
});
