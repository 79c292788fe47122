import { defineProtocol } from '../engine/protocol.js';
import { Aggregation } from './aggregation/aggregation.js';
import { aggregationParams, checkAggregation } from './aggregation/params.js';

export { Aggregation } from './aggregation/aggregation.js';
export { CountInstances } from './aggregation/count-instances.js';
export type { AggregationFunction, AggregationParams } from './aggregation/params.js';

export const aggregation = defineProtocol({
  type: 'aggregation',
  description: 'push-pull gossip aggregation: average, count, sum, min, max, with epochs (Jelasity, Montresor, Babaoglu 2005)',
  params: aggregationParams,
  check: checkAggregation,
  create: (ctx, p) => new Aggregation(ctx, p),
});
