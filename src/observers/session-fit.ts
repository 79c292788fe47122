/*
 * Fitting a Weibull distribution of session lengths to what a simulation shows of
 * them: whole cycles, sessions still running (right-censored), sessions seen only
 * because they lasted until an observation (left-truncated).
 *
 * The model is continuous-time session churn (the `sessions` control): a session of
 * length L starts at a time s and the node is in the overlay from the first cycle at
 * or after s until the first cycle at or after s + L, and for at least one cycle. Its
 * length in cycles is D = max(1, ceil(L - u)), u = ceil(s) - s. A session that starts
 * at cycle 0 (an initial node) has u = 0, so P(D >= d) = S(d - 1); a later one starts
 * at a uniformly random point of the cycle before it appears (a return after an OFF
 * period drawn in continuous time), so P(D >= d) is the mean of S over [d - 1, d].
 * Treating D as the length itself would bias the fit: with shape 0.38 a fifth of the
 * sessions are shorter than the scale's 1/42.
 */

/** Sessions whose length in cycles is known to lie in [lo, hi] (hi Infinity: still running), given that it is at least `from`. */
export interface SessionRecord {
  /** true: started at cycle 0 (u = 0); false: at a uniformly random point of the cycle before it appeared. */
  readonly exactStart: boolean;
  readonly lo: number;
  readonly hi: number;
  readonly from: number;
  readonly count: number;
}

export interface WeibullFit {
  readonly shape: number;
  readonly scale: number;
  readonly logLikelihood: number;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < 9; i++) sum += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * The regularised incomplete gamma functions P(a, x) (lower) and Q(a, x) = 1 - P
 * (upper), each computed where it is accurate: a series for x < a + 1, a continued
 * fraction (modified Lentz) beyond.
 */
export function incompleteGamma(a: number, x: number): { lower: number; upper: number } {
  if (x <= 0) return { lower: 0, upper: 1 };
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a, sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    const lower = sum * front;
    return { lower, upper: 1 - lower };
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const upper = front * h;
  return { lower: 1 - upper, upper };
}

/**
 * P(D >= d) for d = 0..last + 1, both starts, under Weibull(shape, scale): `exact[d]`
 * for a start at cycle 0, `spread[d]` for a start spread over the cycle before.
 */
function survivalTables(shape: number, scale: number, last: number): { exact: Float64Array; spread: Float64Array } {
  const exact = new Float64Array(last + 2);
  const spread = new Float64Array(last + 2);
  // The upper incomplete gamma of a = 1/shape at x = (t/scale)^shape, t = 0..last + 1:
  // the integral of S over [t, infinity) is scale Γ(1 + 1/shape) Q(a, x).
  const a = 1 / shape;
  const mean = scale * Math.exp(logGamma(1 + a));
  let tailBefore = mean; // the integral of S from d - 1 on, for d = 1
  for (let d = 0; d <= last + 1; d++) {
    exact[d] = d <= 1 ? 1 : Math.exp(-(((d - 1) / scale) ** shape));
    if (d <= 1) {
      spread[d] = 1;
      if (d === 1) tailBefore = mean * incompleteGamma(a, (1 / scale) ** shape).upper;
      continue;
    }
    const tail = mean * incompleteGamma(a, (d / scale) ** shape).upper;
    spread[d] = tailBefore - tail;
    tailBefore = tail;
  }
  return { exact, spread };
}

/** The log-likelihood of the records under Weibull(shape, scale); -Infinity where it is 0. */
export function logLikelihood(records: readonly SessionRecord[], shape: number, scale: number): number {
  let last = 0;
  for (const r of records) last = Math.max(last, r.lo, r.from, Number.isFinite(r.hi) ? r.hi : 0);
  const { exact, spread } = survivalTables(shape, scale, last);
  let sum = 0;
  for (const r of records) {
    const atLeast = r.exactStart ? exact : spread;
    const inside = atLeast[r.lo] - (Number.isFinite(r.hi) ? atLeast[r.hi + 1] : 0);
    sum += r.count * (Math.log(inside) - Math.log(atLeast[r.from]));
  }
  return Number.isNaN(sum) ? -Infinity : sum;
}

/**
 * The maximum-likelihood Weibull (shape, scale) of the records, by Nelder-Mead over
 * (ln shape, ln scale) from `start` (default: shape 1 and the mean of the lengths
 * seen). NaN for both when no session has ended (the likelihood has no maximum).
 */
export function fitWeibull(records: readonly SessionRecord[], start?: { shape: number; scale: number }): WeibullFit {
  if (!records.some((r) => Number.isFinite(r.hi) && r.count > 0)) return { shape: NaN, scale: NaN, logLikelihood: NaN };
  let initialScale = start?.scale;
  if (initialScale === undefined) {
    let total = 0, count = 0;
    for (const r of records) { total += r.count * r.lo; count += r.count; }
    initialScale = Math.max(1, total / count);
  }
  const cost = (p: readonly number[]) => -logLikelihood(records, Math.exp(p[0]), Math.exp(p[1]));
  const best = nelderMead(cost, [Math.log(start?.shape ?? 1), Math.log(initialScale)], 0.1, 1e-9);
  return { shape: Math.exp(best.point[0]), scale: Math.exp(best.point[1]), logLikelihood: -best.value };
}

/** Minimises `f` from `x0` (initial simplex of side `step`) until the simplex's values agree within `tolerance`. */
function nelderMead(f: (x: readonly number[]) => number, x0: readonly number[], step: number, tolerance: number): { point: number[]; value: number } {
  const n = x0.length;
  const points = [x0.slice()];
  for (let i = 0; i < n; i++) points.push(x0.map((v, j) => (j === i ? v + step : v)));
  const values = points.map(f);
  const blend = (a: readonly number[], b: readonly number[], t: number) => a.map((v, j) => v + t * (b[j] - v));
  for (let iteration = 0; iteration < 2000; iteration++) {
    const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
    const sortedPoints = order.map((i) => points[i]);
    const sortedValues = order.map((i) => values[i]);
    points.splice(0, n + 1, ...sortedPoints);
    values.splice(0, n + 1, ...sortedValues);
    if (Math.abs(values[n] - values[0]) <= tolerance * (Math.abs(values[0]) + tolerance)) break;
    const centroid = x0.map((_, j) => points.slice(0, n).reduce((s, p) => s + p[j], 0) / n);
    const reflected = blend(centroid, points[n], -1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = blend(centroid, points[n], -2);
      const fe = f(expanded);
      [points[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]) {
      [points[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n] ? blend(centroid, reflected, 0.5) : blend(centroid, points[n], 0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[n])) {
        [points[n], values[n]] = [contracted, fc];
      } else {
        for (let i = 1; i <= n; i++) {
          points[i] = blend(points[0], points[i], 0.5);
          values[i] = f(points[i]);
        }
      }
    }
  }
  return { point: points[0], value: values[0] };
}
