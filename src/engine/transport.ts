import { z } from 'zod';
import type { NodeStore } from './node-store.js';
import type { Random } from './random.js';
import { declaredAttribute } from './attribute.js';
import { ScenarioError } from './errors.js';

const nonNegative = (what: string) => z.number().min(0).describe(what);

/** How long a message takes, in ms. Pairwise models fix a pair's latency for the whole run. */
export const latencySchema = z.discriminatedUnion('model', [
  z.strictObject({ model: z.literal('constant'), value: nonNegative('latency of every message') }),
  z.strictObject({ model: z.literal('uniform'), min: nonNegative('shortest latency'), max: nonNegative('longest latency') })
    .refine((l) => l.max >= l.min, { message: 'expected max >= min', path: ['max'] }),
  z.strictObject({ model: z.literal('lognormal'), mu: z.number().describe('mean of ln(latency)'), sigma: z.number().min(0).describe('std of ln(latency)') }),
  z.strictObject({
    model: z.literal('coordinates'),
    base: nonNegative('latency at distance 0').default(0),
    perUnit: nonNegative('added latency per unit of distance; nodes sit uniformly in the unit square').default(100),
  }),
  z.strictObject({
    model: z.literal('regions'),
    matrix: z.array(z.array(nonNegative('latency between two regions'))).min(1).describe('latency from region i (row) to region j (column); regions are 0, 1, ...'),
    attribute: z.string().default('region').describe('the attribute holding each node\'s region index'),
  }),
]);

export const transportSchema = z.strictObject({
  latency: latencySchema.default({ model: 'constant', value: 0 }).describe('message latency model'),
  loss: z.number().min(0).max(1).default(0).describe('probability that a message is lost'),
  bandwidth: z.number().min(0).default(0).describe('upload bandwidth of every node in bytes per ms; 0 = unlimited'),
});
export type TransportSpec = z.infer<typeof transportSchema>;

/**
 * The network model of the event-driven engine: per-message latency, loss and an
 * optional upload bandwidth that queues a node's outgoing messages. Times are whole
 * milliseconds (latencies are rounded), which keeps the event wheel's buckets in order.
 */
export class TransportModel {
  private readonly x?: Float64Array;
  private readonly y?: Float64Array;
  private readonly region?: Float64Array;
  private readonly busyUntil?: Float64Array;
  /** The hot path's parameters, read from plain fields: loss, and the uniform model's range (kept apart from the spec's union type). */
  private readonly loss: number;
  private readonly uniform: boolean;
  private readonly min: number;
  private readonly span: number;

  constructor(private readonly spec: TransportSpec, private readonly store: NodeStore, private readonly random: Random) {
    if (spec.latency.model === 'coordinates') {
      this.x = new Float64Array(store.capacity);
      this.y = new Float64Array(store.capacity);
      for (let i = 0; i < store.size; i++) this.place(store.liveSlot(i));
    }
    if (spec.latency.model === 'regions') {
      this.region = declaredAttribute(store, spec.latency.attribute, 'transport.latency.attribute');
      const n = spec.latency.matrix.length;
      spec.latency.matrix.forEach((row, i) => {
        if (row.length !== n) throw new ScenarioError(`transport.latency.matrix.${i}`, `expected ${n} columns (a square matrix), found ${row.length}`);
      });
      for (let i = 0; i < store.size; i++) {
        const region = this.region[store.liveSlot(i)];
        if (!(Number.isInteger(region) && region >= 0 && region < n)) {
          throw new ScenarioError('transport.latency.matrix', `expected a row for every region value of attribute "${spec.latency.attribute}" (0..${n - 1}), found region ${region}`);
        }
      }
    }
    if (spec.bandwidth > 0) this.busyUntil = new Float64Array(store.capacity);
    this.loss = spec.loss;
    this.uniform = spec.latency.model === 'uniform';
    this.min = spec.latency.model === 'uniform' ? spec.latency.min : 0;
    this.span = spec.latency.model === 'uniform' ? spec.latency.max - spec.latency.min : 0;
  }

  /** The per-node state (coordinates, upload queues), for checkpoints. */
  save(): Record<string, unknown> {
    return { ...(this.x ? { x: this.x, y: this.y } : {}), ...(this.busyUntil ? { busyUntil: this.busyUntil } : {}) };
  }

  restore(saved: Record<string, any>): void {
    if (this.x && this.y) { this.x.set(saved.x); this.y.set(saved.y); }
    if (this.busyUntil) this.busyUntil.set(saved.busyUntil);
  }

  /** Gives a new node its place (coordinates model) and a free upload link. */
  place(slot: number): void {
    if (this.x && this.y) {
      this.x[slot] = this.random.next();
      this.y[slot] = this.random.next();
    }
    if (this.busyUntil) this.busyUntil[slot] = 0;
  }

  /** True when the message is lost. */
  lost(): boolean {
    return this.loss > 0 && this.random.next() < this.loss;
  }

  /** Arrival time (whole ms) of a message of `bytes` sent now from slot `from` to slot `to`. */
  arrival(now: number, from: number, to: number, bytes: number): number {
    if (this.uniform && this.busyUntil === undefined) return Math.round(now + (this.min + this.span * this.random.next()));
    let start = now;
    if (this.busyUntil && bytes > 0) {
      start = Math.max(now, this.busyUntil[from]);
      this.busyUntil[from] = start + bytes / this.spec.bandwidth;
      start = this.busyUntil[from];
    }
    return Math.round(start + this.latency(from, to));
  }

  private latency(from: number, to: number): number {
    const l = this.spec.latency;
    switch (l.model) {
      case 'constant': return l.value;
      case 'uniform': return l.min + (l.max - l.min) * this.random.next();
      case 'lognormal': return Math.exp(l.mu + l.sigma * this.random.normal());
      case 'coordinates': return l.base + l.perUnit * Math.hypot(this.x![from] - this.x![to], this.y![from] - this.y![to]);
      case 'regions': {
        const row = l.matrix[this.region![from]];
        const value = row?.[this.region![to]];
        if (value === undefined) throw new ScenarioError('transport.latency.matrix', `expected an entry for regions ${this.region![from]} -> ${this.region![to]}, found none`);
        return value;
      }
    }
  }
}
