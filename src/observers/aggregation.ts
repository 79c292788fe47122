import { z } from 'zod';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';
import { Aggregation } from '../protocols/aggregation/aggregation.js';
import { ScenarioError } from '../engine/errors.js';

const params = z.strictObject({
  protocol: z.union([z.string(), z.array(z.string()).min(1)])
    .describe('the aggregation instance to measure, or a list of independent instances to pool (see below)'),
  within: z.number().min(0).optional()
    .describe('a relative error bound: adds fraction_within (the participants whose estimate is within it of the true value; 0: exactly it) and cycles_to_within (cycles from the epoch start until every participant first was)'),
});
type AggregationObserverParams = z.infer<typeof params>;

/**
 * How close the nodes' estimates are to the true aggregate and to each other.
 *
 * Estimates are taken over live nodes that take part in the current epoch (a node
 * that joined mid-epoch has none yet); `true_value` is the exact aggregate of every
 * live node's input, joiners included, since that is what the estimates should track.
 * `convergence_factor` is this observation's variance over the previous one's: NaN at
 * the first observation, which has nothing to compare with. Observed every cycle it is
 * the paper's per-cycle factor ρ (1/(2√e) ≈ 0.303 for a uniform random peer).
 * Count's estimates are Infinity at nodes no instance has reached yet, and so then
 * are the mean and the errors. With no participants (or no live nodes) the statistics
 * over them are NaN.
 *
 * Given a list of independent instances (same function, own random streams), every
 * metric is the mean over the instances, and `convergence_factor` is the ratio of
 * their summed variances: the paper's ρ = E[σ²(i+1)]/E[σ²(i)] estimated over runs,
 * which a single run from a peak only approximates (its first cycles depend on where
 * the first fragments of the peak go).
 *
 * With `within` ε (opt-in, so that other scenarios' rows stay as they are), two more
 * metrics: `fraction_within`, the fraction of participants whose estimate x has
 * |x - truth| <= ε·|truth| (ε = 0: x is exactly the truth, as min and max reach it), and
 * `cycles_to_within`, the cycles from the start of the epoch to the first observation
 * at which every participant was within ε (NaN until then; first passage, so it stays
 * put if estimates later stray; observed every cycle, it is the spreading time of min
 * and max, or count's time to an accuracy). Pooled: the mean fraction, and the time of
 * the instance that took longest (NaN until all have got there).
 */
interface Measures {
  participants: number; mean: number; variance: number; min: number; max: number;
  trueValue: number; meanRelativeError: number; maxRelativeError: number;
  /** Participants within the `within` bound (0 without one). */
  within: number;
}

const METRICS = ['participants', 'mean', 'variance', 'min', 'max', 'true_value', 'drift', 'mean_rel_error', 'max_rel_error', 'convergence_factor'];
const WITHIN_METRICS = ['fraction_within', 'cycles_to_within'];

class AggregationObserver implements ObserverInstance {
  private readonly instances: Aggregation[];
  /** The variance at the previous observation, which convergence_factor divides by. */
  private readonly previous: { variance: number };
  readonly metrics: readonly string[];
  private readonly within: number | undefined;
  /**
   * With `within`: per instance, the epoch start it was last seen in (NaN: not yet),
   * then the cycles from it to the first observation with every participant within (NaN: not yet).
   */
  private readonly reached: Float64Array | undefined;

  constructor(private readonly ctx: Context, p: AggregationObserverParams) {
    this.previous = ctx.state.values('previous', { variance: NaN });
    this.within = p.within;
    this.metrics = p.within === undefined ? METRICS : [...METRICS, ...WITHIN_METRICS];
    const names = Array.isArray(p.protocol) ? p.protocol : [p.protocol];
    this.instances = names.map((name, i) => {
      const instance = ctx.protocol(name);
      if (!(instance instanceof Aggregation)) {
        const path = `observers.${ctx.name}.protocol${Array.isArray(p.protocol) ? `.${i}` : ''}`;
        throw new ScenarioError(path, `expected the name of an aggregation protocol, found "${name}" (of another type)`);
      }
      return instance;
    });
    this.reached = p.within === undefined ? undefined : ctx.state.array('reached', new Float64Array(2 * names.length).fill(NaN));
  }

  observe(emit: (metric: string, value: number) => void): void {
    const all = this.instances.map((instance) => this.measure(instance));
    const mean = (key: keyof Measures) => all.reduce((sum, m) => sum + m[key], 0) / all.length;
    const variance = mean('variance');
    emit('participants', mean('participants'));
    emit('mean', mean('mean'));
    emit('variance', variance);
    emit('min', mean('min'));
    emit('max', mean('max'));
    emit('true_value', mean('trueValue'));
    // Relative drift of the mean estimate from the truth: 0 while mass is conserved
    // (atomic exchanges); non-atomic exchanges in the event engine move it.
    emit('drift', mean('mean') / mean('trueValue') - 1);
    emit('mean_rel_error', mean('meanRelativeError'));
    emit('max_rel_error', mean('maxRelativeError'));
    emit('convergence_factor', variance / this.previous.variance);
    this.previous.variance = variance;
    if (this.reached) {
      emit('fraction_within', all.reduce((sum, m) => sum + m.within / m.participants, 0) / all.length);
      emit('cycles_to_within', this.cyclesToWithin(all));
    }
  }

  /** Updates each instance's first passage (restarting it with each epoch) and returns the slowest one's. */
  private cyclesToWithin(all: readonly Measures[]): number {
    const reached = this.reached!;
    const cycle = this.ctx.clock.cycle;
    let slowest = -Infinity;
    this.instances.forEach((instance, k) => {
      if (reached[2 * k] !== instance.epochStart) {
        reached[2 * k] = instance.epochStart;
        reached[2 * k + 1] = NaN;
      }
      const m = all[k];
      if (Number.isNaN(reached[2 * k + 1]) && m.participants > 0 && m.within === m.participants) reached[2 * k + 1] = cycle - instance.epochStart;
      slowest = Math.max(slowest, reached[2 * k + 1]);
    });
    return slowest;
  }

  private measure(aggregation: Aggregation): Measures {
    const { store } = this.ctx;
    const truth = this.trueValue(aggregation);

    // Two passes over the estimates: the mean, then squared deviations (the one-pass
    // sum of squares cancels catastrophically once estimates agree to many digits).
    let participants = 0, sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < store.size; i++) {
      const slot = store.liveSlot(i);
      if (!aggregation.isParticipating(slot)) continue;
      const x = aggregation.estimate(slot);
      participants++;
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const mean = sum / participants;
    const bound = this.within ?? -1;
    let squares = 0, relativeErrors = 0, maxRelativeError = 0, within = 0;
    for (let i = 0; i < store.size; i++) {
      const slot = store.liveSlot(i);
      if (!aggregation.isParticipating(slot)) continue;
      const x = aggregation.estimate(slot);
      const delta = x - mean;
      squares += delta * delta;
      const relativeError = Math.abs(x - truth) / Math.abs(truth);
      relativeErrors += relativeError;
      if (relativeError > maxRelativeError || Number.isNaN(relativeError)) maxRelativeError = relativeError;
      // Compared as a distance, not as relativeError, so that ε = 0 means equal even where the truth is 0.
      if (Math.abs(x - truth) <= bound * Math.abs(truth)) within++;
    }
    // Over no participants every statistic is undefined (NaN), not ±Infinity.
    return {
      participants,
      mean,
      variance: squares / participants,
      min: participants === 0 ? NaN : min,
      max: participants === 0 ? NaN : max,
      trueValue: truth,
      meanRelativeError: relativeErrors / participants,
      maxRelativeError: participants === 0 ? NaN : maxRelativeError,
      within,
    };
  }

  /** The exact aggregate over every live node's input. */
  private trueValue(aggregation: Aggregation): number {
    const { store } = this.ctx;
    const n = store.size;
    switch (aggregation.function) {
      case 'count': return n;
      case 'min':
      case 'max': {
        if (n === 0) return NaN;
        let extreme = aggregation.function === 'min' ? Infinity : -Infinity;
        for (let i = 0; i < n; i++) {
          const x = aggregation.input(store.liveSlot(i));
          extreme = aggregation.function === 'min' ? Math.min(extreme, x) : Math.max(extreme, x);
        }
        return extreme;
      }
      default: {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += aggregation.input(store.liveSlot(i));
        return aggregation.function === 'sum' ? sum : sum / n;
      }
    }
  }
}

export const aggregationObserver = defineObserver({
  type: 'aggregation',
  description: 'aggregation estimates: mean, variance, min, max, true value, relative errors, convergence factor; with within: fraction within a relative error and cycles until every node was',
  params,
  check: (p) => {
    const names = Array.isArray(p.protocol) ? p.protocol : [p.protocol];
    const twice = names.findIndex((name, i) => names.indexOf(name) !== i);
    return twice < 0 ? [] : [{ key: `protocol.${twice}`, message: `expected distinct instances (each pooled once), found "${names[twice]}" again` }];
  },
  metrics: METRICS,
  create: (ctx, p) => new AggregationObserver(ctx, p),
});
