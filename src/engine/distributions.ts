import { z } from 'zod';
import type { Random } from './random.js';

/** The distributions a scenario may name for node attributes (and later for churn lifetimes). */
export const distributionSchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('constant'), value: z.number() }),
  z.strictObject({ dist: z.literal('uniform'), min: z.number(), max: z.number() })
    .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
  z.strictObject({ dist: z.literal('normal'), mean: z.number().default(0), std: z.number().nonnegative().default(1) }),
  z.strictObject({ dist: z.literal('lognormal'), mu: z.number().default(0), sigma: z.number().nonnegative().default(1) }),
  z.strictObject({
    dist: z.literal('pareto'),
    alpha: z.number().positive().describe('shape'),
    xm: z.number().positive().default(1).describe('scale: the smallest value'),
  }),
  z.strictObject({
    dist: z.literal('discrete'),
    values: z.array(z.number()).min(1),
    weights: z.array(z.number().nonnegative()).min(1).optional().describe('default: equal weights'),
  }).refine((d) => !d.weights || d.weights.length === d.values.length, {
    message: 'weights must have as many entries as values', path: ['weights'],
  }).refine((d) => !d.weights || d.weights.some((w) => w > 0), {
    message: 'at least one weight must be positive', path: ['weights'],
  }),
]);

export type Distribution = z.infer<typeof distributionSchema>;

/** Turns a distribution spec into a sampler over a given stream. */
export function sampler(spec: Distribution): (rng: Random) => number {
  switch (spec.dist) {
    case 'constant': return () => spec.value;
    case 'uniform': return (rng) => spec.min + (spec.max - spec.min) * rng.next();
    case 'normal': return (rng) => spec.mean + spec.std * rng.normal();
    case 'lognormal': return (rng) => Math.exp(spec.mu + spec.sigma * rng.normal());
    case 'pareto': return (rng) => spec.xm / Math.pow(rng.positive(), 1 / spec.alpha);
    case 'discrete': {
      const weights = spec.weights ?? spec.values.map(() => 1);
      const cumulative = new Float64Array(weights.length);
      let total = 0;
      weights.forEach((w, i) => { total += w; cumulative[i] = total; });
      return (rng) => {
        const u = rng.next() * total;
        for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]) return spec.values[i];
        return spec.values[spec.values.length - 1];
      };
    }
  }
}
