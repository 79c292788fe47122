import { z } from 'zod';
import type { ParamProblem } from '../../engine/protocol.js';

/** How each node's input (the value it contributes) is set. */
const initSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('peak').describe('one node, drawn at random, holds all the mass; every other node holds 0'),
    value: z.number().optional().describe("the peak node's input; default: the scenario size, so that the mean is 1"),
  }),
  z.strictObject({
    kind: z.literal('uniform').describe('each input drawn uniformly from [a, b]'),
    a: z.number().default(0).describe('lower bound'),
    b: z.number().default(1).describe('upper bound'),
  }),
  z.strictObject({
    kind: z.literal('linear').describe('inputs spread evenly over [a, b], in the order of the initial nodes'),
    a: z.number().default(0).describe('input of the first node'),
    b: z.number().default(1).describe('input of the last node'),
  }),
  z.strictObject({
    kind: z.literal('constant').describe('every node has the same input'),
    value: z.number().default(1).describe('the input'),
  }),
  z.strictObject({
    kind: z.literal('attribute').describe('each node contributes one of its attributes (re-read at every epoch)'),
    name: z.string().min(1).describe('the attribute, as declared under `attributes:`'),
  }),
]);

/**
 * Most concurrent count instances. Every node keeps a value per instance (about
 * C + 4√C columns), every exchange carries them all, and each estimate sorts them
 * (C² steps per node): at C = 100 an observation of 10^6 nodes already takes seconds,
 * while the median's error shrinks only as 1/√C.
 */
const MAX_LEADERS = 100;

export const aggregationParams = z.strictObject({
  function: z.enum(['average', 'count', 'sum', 'min', 'max']).default('average')
    .describe('average, count (network size), sum (count times average), min or max of the inputs'),
  sampler: z.string().optional()
    .describe('protocol instance that supplies peers (cyclon, oracle, static...); default: the first protocol that has a neighbour list'),
  init: initSchema.default({ kind: 'peak' })
    .describe('the inputs: peak, uniform, linear, constant or attribute (count ignores it: every node counts 1)'),
  epoch: z.number().int().positive().optional()
    .describe('cycles per epoch: the instance restarts from the current inputs every this many cycles; default: never'),
  loss: z.number().min(0).max(1).default(0)
    .describe('probability that any one message (request or reply) is lost: a lost reply leaves the peer updated and the initiator not, which changes the mass'),
  exchangeFailure: z.number().min(0).max(1).default(0)
    .describe("probability P_d that an exchange fails as a whole, the paper's model of link failures: neither node changes, so the mass is kept and convergence only slows"),
  leaders: z.number().positive().max(MAX_LEADERS).optional()
    .describe(`count and sum: expected number of concurrent count instances C (at most ${MAX_LEADERS}, and at most size), each node leading one with probability C/N̂; default: one instance led by a node drawn at random`),
});

export type AggregationParams = z.infer<typeof aggregationParams>;
export type AggregationFunction = AggregationParams['function'];
export type InitSpec = AggregationParams['init'];

/** Cross-checks that the schema alone cannot make. */
export function checkAggregation(p: AggregationParams, scenario: { readonly size: number }): ParamProblem[] {
  const problems: ParamProblem[] = [];
  const countsSize = p.function === 'count' || p.function === 'sum';
  if (p.leaders !== undefined && !countsSize) {
    problems.push({ key: 'leaders', message: `expected leaders only with function count or sum, found function ${p.function}` });
  }
  if (p.leaders !== undefined && p.leaders > scenario.size) {
    problems.push({ key: 'leaders', message: `expected at most the network size (${scenario.size}) leaders, found ${p.leaders}` });
  }
  if ((p.init.kind === 'uniform' || p.init.kind === 'linear') && p.init.b < p.init.a) {
    problems.push({ key: 'init.b', message: `expected b at least a (${p.init.a}), found ${p.init.b}` });
  }
  return problems;
}
