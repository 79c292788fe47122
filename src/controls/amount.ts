import { z } from 'zod';
import type { Random } from '../engine/random.js';

/** A count of nodes (>= 1) or, below 1, a fraction of the live nodes. */
export const amountSchema = z.number().nonnegative();

/**
 * Nodes meant by `amount` out of `live`: a count as is, a fraction rounded
 * stochastically (floor, plus one with probability equal to the remainder), so that
 * 0.5% of 150 nodes removes 0.75 nodes per cycle on average, not 0 or 1 always.
 */
export function resolveAmount(amount: number, live: number, random: Random): number {
  if (amount >= 1) return Math.floor(amount);
  const exact = amount * live;
  const whole = Math.floor(exact);
  return whole + (random.next() < exact - whole ? 1 : 0);
}
