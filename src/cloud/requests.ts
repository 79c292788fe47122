import { z } from 'zod';
import { distributionSchema, sampler } from '../engine/distributions.js';
import { Random } from '../engine/random.js';

/**
 * Customers' requests for subclouds, as a scenario declares them under an allocator's
 * `requests:` key: explicit requests at given cycles, and Poisson arrival processes.
 * The list is expanded once, before the run, from the scenario seed alone (stream
 * `workload`), so two allocators given the same block (a YAML anchor) serve exactly
 * the same requests, and adding an observer or a protocol never changes them.
 */

/** One constraint on an attribute: `capacity >= 2`, `region in [0, 3]` (closed interval), `region in {0, 3}` (set). */
export interface Constraint {
  readonly attribute: string;
  readonly op: '>=' | '<=' | '>' | '<' | '==' | '!=' | 'in' | 'one of';
  /** The bound; for `in` the interval [lo, hi]; for `one of` the values. */
  readonly values: readonly number[];
  /** As written, for messages and the README. */
  readonly text: string;
}

const number = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const constraintPattern = new RegExp(String.raw`^\s*([A-Za-z_][\w-]*)\s*(?:(>=|<=|==|!=|>|<)\s*(${number})|in\s*\[\s*(${number})\s*,\s*(${number})\s*\]|in\s*\{\s*(${number}(?:\s*,\s*${number})*)\s*\})\s*$`);

/** Parses `capacity >= 2`, `region in [0, 3]` or `region in {0, 3}`; undefined if it is none of them. */
export function parseConstraint(text: string): Constraint | undefined {
  const m = constraintPattern.exec(text);
  if (!m) return undefined;
  const [, attribute, op, bound, lo, hi, set] = m;
  if (op) return { attribute, op: op as Constraint['op'], values: [Number(bound)], text: text.trim() };
  if (set) return { attribute, op: 'one of', values: set.split(',').map(Number), text: text.trim() };
  return { attribute, op: 'in', values: [Number(lo), Number(hi)], text: text.trim() };
}

/** Whether value `x` meets constraint `c`. */
export function meets(c: Constraint, x: number): boolean {
  const v = c.values;
  switch (c.op) {
    case '>=': return x >= v[0];
    case '<=': return x <= v[0];
    case '>': return x > v[0];
    case '<': return x < v[0];
    case '==': return x === v[0];
    case '!=': return x !== v[0];
    case 'in': return x >= v[0] && x <= v[1];
    case 'one of': return v.includes(x);
  }
}

/** A constraint as written in a scenario, checked by parseConstraint. */
export const constraintText = z.string().refine((s) => parseConstraint(s) !== undefined, {
  message: 'expected a constraint such as "capacity >= 2", "region in [0, 3]" or "region in {0, 3}"',
});
const where = z.array(constraintText).default([]).describe('constraints every member must meet, e.g. ["capacity >= 2", "region in [0, 3]"]');
/** A count or duration: a fixed number, or drawn from a distribution (rounded; sizes at least 1). */
const drawn = z.union([z.number().positive(), distributionSchema]);

const explicitRequest = z.strictObject({
  customer: z.string().min(1).optional().describe('who asks; default: one customer per request, named after its id (r0, r1, ...: ids number requests by arrival)'),
  at: z.number().min(0).describe('arrival, in cycles (the event engine multiplies by the period)'),
  size: z.number().int().positive().describe('machines asked for'),
  where,
  duration: z.number().positive().optional().describe('cycles from arrival until the subcloud is released; default: until the end of the run'),
  priority: z.number().int().default(0).describe('higher is served first when requests compete for the same machines'),
});

const poissonArrivals = z.strictObject({
  poisson: z.number().positive().describe('arrivals per cycle (a Poisson process)'),
  from: z.number().min(0).default(0).describe('first cycle arrivals may happen'),
  until: z.number().positive().optional().describe('no arrival at or after this cycle; default: the end of the run'),
  count: z.number().int().positive().optional().describe('at most this many arrivals'),
  customers: z.number().int().positive().optional().describe('arrivals are spread over this many customers (c0, c1, ...) drawn uniformly; default: one customer per arrival, named after its id'),
  size: drawn.describe('machines asked for: a number or a distribution (rounded, at least 1)'),
  where,
  duration: drawn.optional().describe('cycles until release: a number or a distribution; default: until the end of the run'),
  priority: z.number().int().default(0),
});

export const requestsSchema = z.array(z.union([explicitRequest, poissonArrivals])).min(1)
  .describe('requests for subclouds: explicit ones ({at, size, where, duration, priority, customer}) and Poisson arrivals ({poisson, from, until, count, customers, size, where, duration, priority})');
export type RequestsSpec = z.infer<typeof requestsSchema>;

/** One request, as the allocators and observers see it. Its index in the expanded list is its id. */
export interface Request {
  readonly id: number;
  readonly customer: string;
  /** Arrival, in cycles (may be fractional for Poisson arrivals). */
  readonly at: number;
  readonly size: number;
  readonly where: readonly Constraint[];
  /** Release, in cycles: at + duration, or Infinity. */
  readonly until: number;
  readonly priority: number;
}

/**
 * Every request of a run, ordered by arrival (ties: in declaration order), with its
 * id set to its index. Poisson blocks draw from the stream `workload` of `seed`, block
 * by block in declaration order; arrivals stop at `cycles` (the run's end).
 */
export function expandRequests(spec: RequestsSpec, seed: number, cycles: number): Request[] {
  const random = new Random('workload', seed);
  // An unnamed customer is named after its request's id, known once every arrival is drawn.
  const drafts: (Omit<Request, 'id' | 'customer'> & { customer?: string })[] = [];
  for (const block of spec) {
    if ('at' in block) {
      const where = block.where.map((w) => parseConstraint(w)!);
      drafts.push({
        customer: block.customer, at: block.at, size: block.size, where,
        until: block.duration === undefined ? Infinity : block.at + block.duration, priority: block.priority,
      });
      continue;
    }
    const where = block.where.map((w) => parseConstraint(w)!);
    const size = draw(block.size);
    const duration = block.duration === undefined ? undefined : draw(block.duration);
    const until = Math.min(block.until ?? cycles, cycles);
    let t = block.from;
    for (let n = 0; block.count === undefined || n < block.count; n++) {
      t += -Math.log(random.positive()) / block.poisson;
      if (t >= until) break;
      const customer = block.customers === undefined ? undefined : `c${random.int(block.customers)}`;
      const length = duration ? Math.max(1, Math.round(duration(random))) : undefined;
      drafts.push({
        customer, at: t, size: Math.max(1, Math.round(size(random))), where,
        until: length === undefined ? Infinity : t + length, priority: block.priority,
      });
    }
  }
  return drafts
    .map((d, order) => ({ d, order }))
    .sort((x, y) => x.d.at - y.d.at || x.order - y.order)
    .map(({ d }, id) => ({ id, ...d, customer: d.customer ?? `r${id}` }));
}

function draw(spec: z.infer<typeof drawn>): (random: Random) => number {
  return typeof spec === 'number' ? () => spec : sampler(spec);
}
