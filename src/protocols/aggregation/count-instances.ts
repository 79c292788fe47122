import type { NodeStore } from '../../engine/node-store.js';
import type { Random } from '../../engine/random.js';
import type { StateDeclarations } from '../../engine/state.js';

/**
 * Network size by averaging (COUNT in Jelasity, Montresor, Babaoglu 2005): in each
 * instance its leader starts with 1 and every other node with 0, so every value tends
 * to 1/N and each node estimates N as 1/x.
 *
 * Several instances run at once, as in the paper: at the start of an epoch each node
 * leads a new instance with probability C/N̂, N̂ being its own estimate from the
 * previous epoch (the scenario size at the start). A node combines the instances it
 * has heard of (x > 0) by the median of their 1/x: one instance skewed by a crash that
 * took much of its mass then moves the estimate no further than its neighbours in
 * rank allow, which is what running several instances is for. Without `leaders` there
 * is exactly one instance, led by a node drawn at random: the paper's basic COUNT.
 *
 * Layout: `width` values per node, slot-major (slot * width + instance), so one
 * exchange reads and writes one contiguous run per side.
 */
export class CountInstances {
  /** Instance columns per node: room for the leaders of one epoch. */
  readonly width: number;
  /** slot * width + instance -> the node's value in that instance. */
  readonly values: Float64Array;
  /** slot -> N̂, the node's size estimate from the last epoch that gave it one. */
  readonly sizeGuess: Float64Array;
  /** The instances running this epoch, and the elected leaders that found no free column, over the whole run (see `width`). */
  private readonly tally: { running: number; droppedLeaders: number };
  private readonly sorted: Float64Array;

  constructor(store: NodeStore, private readonly leaders: number | undefined, scenarioSize: number, state: StateDeclarations) {
    // The number of leaders is binomial with mean C, so C + 4√C columns leave an elected
    // leader without a column about once in 10^4-10^5 epochs; such leaders are counted
    // and sit the epoch out rather than grow the per-node record.
    this.width = leaders === undefined ? 1 : Math.ceil(leaders + 4 * Math.sqrt(leaders));
    this.values = state.array('instances', new Float64Array(store.capacity * this.width));
    this.sizeGuess = state.array('size-guess', new Float64Array(store.capacity).fill(scenarioSize));
    this.tally = state.values('elections', { running: 0, droppedLeaders: 0 });
    this.sorted = new Float64Array(this.width);
  }

  /** Instances running this epoch (columns 0..running-1). */
  get running(): number {
    return this.tally.running;
  }

  /** Elected leaders that found no free column, over the whole run (see `width`). */
  get droppedLeaders(): number {
    return this.tally.droppedLeaders;
  }

  /** Starts the instances of a new epoch over the live nodes, electing leaders with `random`. */
  restart(store: NodeStore, random: Random): void {
    const { values, width } = this;
    const n = store.size;
    for (let i = 0; i < n; i++) {
      const base = store.liveSlot(i) * width;
      values.fill(0, base, base + width);
    }
    const tally = this.tally;
    tally.running = 0;
    if (n === 0) return;
    if (this.leaders === undefined) {
      values[store.liveSlot(random.int(n)) * width] = 1;
      tally.running = 1;
      return;
    }
    for (let i = 0; i < n; i++) {
      const slot = store.liveSlot(i);
      if (random.next() * this.sizeGuess[slot] >= this.leaders) continue; // not elected: P = C/N̂
      if (tally.running < width) values[slot * width + tally.running++] = 1;
      else tally.droppedLeaders++;
    }
  }

  /** Keeps the estimate a node reached this epoch as its N̂ for the next election (if it reached one). */
  rememberEstimate(slot: number): void {
    const estimate = this.estimate(slot);
    if (Number.isFinite(estimate)) this.sizeGuess[slot] = estimate;
  }

  clear(slot: number): void {
    this.values.fill(0, slot * this.width, (slot + 1) * this.width);
  }

  /** Median over the instances the node has heard of of 1/x; Infinity if it has heard of none yet. */
  estimate(slot: number): number {
    const { values, sorted } = this;
    const base = slot * this.width;
    let known = 0;
    for (let k = 0, running = this.tally.running; k < running; k++) {
      const x = values[base + k];
      if (x <= 0) continue;
      // Insertion sort: a handful of values.
      let j = known++;
      const inverse = 1 / x;
      while (j > 0 && sorted[j - 1] > inverse) { sorted[j] = sorted[j - 1]; j--; }
      sorted[j] = inverse;
    }
    if (known === 0) return Infinity;
    const middle = known >> 1;
    return known % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}
