import { z } from 'zod';
import type { Random } from './random.js';

/**
 * Distributions of session (ON) and downtime (OFF) lengths, as churn studies fit
 * them: exponential; Weibull (Stutzbach & Rejaie 2006: BitTorrent shape 0.34-0.59);
 * shifted Pareto F(x) = 1 - (1 + x/beta)^-alpha (Yao et al. 2006); lognormal; or an
 * empirical list resampled uniformly. Lengths are in the model's own time unit.
 */
export const lifetimeSchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('exponential'), mean: z.number().positive() }),
  z.strictObject({ dist: z.literal('weibull'), shape: z.number().positive(), scale: z.number().positive() }),
  z.strictObject({ dist: z.literal('pareto'), alpha: z.number().positive(), beta: z.number().positive() }),
  z.strictObject({ dist: z.literal('lognormal'), mu: z.number(), sigma: z.number().positive() }),
  z.strictObject({ dist: z.literal('empirical'), values: z.array(z.number().nonnegative()).min(1) }),
]);
export type Lifetime = z.infer<typeof lifetimeSchema>;

/** One length drawn from the distribution. */
export function drawLifetime(spec: Lifetime, random: Random): number {
  switch (spec.dist) {
    case 'exponential': return -spec.mean * Math.log(random.positive());
    case 'weibull': return spec.scale * Math.pow(-Math.log(random.positive()), 1 / spec.shape);
    case 'pareto': return spec.beta * (Math.pow(random.positive(), -1 / spec.alpha) - 1);
    case 'lognormal': return Math.exp(spec.mu + spec.sigma * random.normal());
    case 'empirical': return spec.values[random.int(spec.values.length)];
  }
}

/** P(X <= x): for checking drawn lengths (Kolmogorov-Smirnov). */
export function lifetimeCdf(spec: Lifetime, x: number): number {
  if (x < 0) return 0;
  switch (spec.dist) {
    case 'exponential': return 1 - Math.exp(-x / spec.mean);
    case 'weibull': return 1 - Math.exp(-Math.pow(x / spec.scale, spec.shape));
    case 'pareto': return 1 - Math.pow(1 + x / spec.beta, -spec.alpha);
    case 'lognormal': return x === 0 ? 0 : 0.5 * (1 + erf((Math.log(x) - spec.mu) / (spec.sigma * Math.SQRT2)));
    case 'empirical': return spec.values.filter((v) => v <= x).length / spec.values.length;
  }
}

/** The distribution's mean (Infinity for a Pareto with alpha <= 1). */
export function lifetimeMean(spec: Lifetime): number {
  switch (spec.dist) {
    case 'exponential': return spec.mean;
    case 'weibull': return spec.scale * gamma(1 + 1 / spec.shape);
    case 'pareto': return spec.alpha > 1 ? spec.beta / (spec.alpha - 1) : Infinity;
    case 'lognormal': return Math.exp(spec.mu + (spec.sigma * spec.sigma) / 2);
    case 'empirical': return spec.values.reduce((a, b) => a + b, 0) / spec.values.length;
  }
}

/** Lanczos approximation of the gamma function (relative error ~1e-15). */
export function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = c[0];
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

/** Error function (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}
