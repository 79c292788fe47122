import { z } from 'zod';
import type { Context, ParamProblem } from '../engine/protocol.js';
import { declaredAttribute } from '../engine/attribute.js';

/**
 * Which live nodes a control takes: at random, or the top or bottom of an attribute
 * (failures correlated with an attribute: what breaks slicing).
 */
export const selectParams = {
  select: z.enum(['random', 'top', 'bottom']).default('random')
    .describe('which nodes: at random, or those with the highest (top) or lowest (bottom) attribute values'),
  attribute: z.string().optional().describe('the attribute that top and bottom rank by'),
};

type Select = 'random' | 'top' | 'bottom';

/** The schema-level check: top and bottom need an attribute. */
export function checkSelect(p: { select: Select; attribute?: string }): ParamProblem[] {
  return p.select !== 'random' && !p.attribute
    ? [{ key: 'attribute', message: `expected an attribute name to rank by for select: ${p.select}, found nothing` }]
    : [];
}

/** The attribute's values for top and bottom (undefined for random), resolved when the control is built. */
export function rankingValues(ctx: Context, p: { select: Select; attribute?: string }): Float64Array | undefined {
  return p.select === 'random' ? undefined : declaredAttribute(ctx.store, p.attribute!, `controls.${ctx.name}.attribute`);
}

/** Sorts slots so that those to go first come first: the highest values (top) or the lowest (bottom), ties by slot. */
export function sortForSelect(slots: Int32Array, values: Float64Array, select: 'top' | 'bottom'): void {
  const sign = select === 'top' ? -1 : 1;
  // Ties broken by slot, so the choice never depends on sort stability.
  slots.sort((a, b) => sign * (values[a] - values[b]) || a - b);
}
