import { z } from 'zod';
import { defineControl } from '../engine/protocol.js';
import { declaredAttribute } from '../scenario/attribute.js';

const params = z.strictObject({
  start: z.number().int().min(1).describe('cycle at whose start the network splits'),
  end: z.number().int().min(1).optional().describe('cycle at whose start it heals; default: never'),
  groups: z.array(z.array(z.number()).min(1)).min(2).describe('groups of region values; nodes in different groups cannot exchange (unlisted values form one more group)'),
  attribute: z.string().default('region').describe('the attribute holding each node\'s region'),
});

/** Between start and end, nodes in different groups of regions cannot exchange. */
export const partition = defineControl({
  type: 'partition',
  description: 'network partition between groups of regions, from start until end',
  params,
  check: (p) => (p.end !== undefined && p.end <= p.start
    ? [{ key: 'end', message: `expected a cycle after start (${p.start}), found ${p.end}` }]
    : []),
  create: (ctx, p) => {
    const values = declaredAttribute(ctx.store, p.attribute, `controls.${ctx.name}.attribute`);
    let phase: 'before' | 'split' | 'healed' = 'before';
    return {
      execute(cycle) {
        if (phase === 'before' && cycle >= p.start) {
          phase = 'split';
          ctx.network.partition(values, p.groups);
        }
        if (phase === 'split' && p.end !== undefined && cycle >= p.end) {
          phase = 'healed';
          ctx.network.heal();
        }
      },
    };
  },
});
