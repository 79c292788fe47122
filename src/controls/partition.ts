import { z } from 'zod';
import { defineControl, type ParamProblem } from '../engine/protocol.js';
import { withinRun } from './within-run.js';
import { declaredAttribute } from '../engine/attribute.js';

const params = z.strictObject({
  start: z.number().int().min(1).describe('cycle at whose start the network splits, at most cycles'),
  end: z.number().int().min(1).optional().describe('cycle at whose start it heals, after start; default (or beyond the run): never'),
  groups: z.array(z.array(z.number()).min(1)).min(2)
    .describe('groups of region values, each value in one group only; nodes in different groups cannot exchange (unlisted values form one more group)'),
  attribute: z.string().default('region').describe('the attribute holding each node\'s region'),
});

/** A region listed in two groups would silently land in the last one: refused. */
function disjointGroups(groups: readonly (readonly number[])[]): ParamProblem[] {
  const groupOf = new Map<number, number>();
  for (const [g, values] of groups.entries()) {
    for (const [i, value] of values.entries()) {
      const first = groupOf.get(value);
      if (first !== undefined) {
        return [{ key: `groups.${g}.${i}`, message: `expected each region in one group only, found ${value} in groups ${first} and ${g}` }];
      }
      groupOf.set(value, g);
    }
  }
  return [];
}

/** Between start and end, nodes in different groups of regions cannot exchange. */
export const partition = defineControl({
  type: 'partition',
  description: 'network partition between groups of regions, from start until end',
  params,
  check: (p, scenario) => [
    ...withinRun('start', p.start, scenario),
    ...(p.end !== undefined && p.end <= p.start ? [{ key: 'end', message: `expected a cycle after start (${p.start}), found ${p.end}` }] : []),
    ...disjointGroups(p.groups),
  ],
  create: (ctx, p) => {
    const values = declaredAttribute(ctx.store, p.attribute, `controls.${ctx.name}.attribute`);
    const run = ctx.state.values('run', { phase: 'before' as 'before' | 'split' | 'healed' });
    return {
      execute(cycle) {
        if (run.phase === 'before' && cycle >= p.start) {
          run.phase = 'split';
          ctx.network.partition(values, p.groups);
        }
        if (run.phase === 'split' && p.end !== undefined && cycle >= p.end) {
          run.phase = 'healed';
          ctx.network.heal();
        }
      },
    };
  },
});
