import { z } from 'zod';
import { distributionSchema } from '../engine/distributions.js';
import { transportSchema } from '../engine/transport.js';
import { expectationsSchema } from '../expect/expectations.js';

/** Node slots are indexed by int32 (typed arrays of slots and ids). */
export const MAX_SLOTS = 2 ** 31 - 1;
/** Longest period, jitter or timeout (ms; about 35 years): event times stay exact and within the queue's 2^52 ms. */
export const MAX_MS = 2 ** 40;
/** Longest event-driven run (ms): with MAX_MS on top, still below the queue's 2^52 ms. */
export const MAX_RUN_MS = 2 ** 50;

/**
 * The scenario file's top level. Each protocol, observer and control block is
 * checked afterwards against its own type's schema (see validate.ts), so this
 * level only asks that they be mappings with a `type`.
 */
const instanceBlock = z.looseObject({ type: z.string() });

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).optional().describe("the run's name, written in every CSV row; default: the file's base name"),
  seed: z.number().int().min(0).default(1).describe('the seed every random stream derives from'),
  size: z.number().int().positive().max(MAX_SLOTS).describe('number of nodes at the start'),
  capacity: z.number().int().positive().max(MAX_SLOTS).optional().describe('most nodes alive at once (slots to allocate); default: size'),
  cycles: z.number().int().min(0).describe('number of cycles to run'),
  engine: z.enum(['cycle', 'event']).default('cycle').describe('cycle: lock-step rounds; event: timers, latency and messages (observer and control schedules then count in periods, or durations such as "250ms")'),
  event: z.strictObject({
    period: z.number().int().positive().max(MAX_MS).default(1000).describe('each node\'s timer period per protocol (ms); the run lasts cycles x period'),
    jitter: z.number().int().min(0).max(MAX_MS).default(0).describe('each firing moves by a uniform offset within +-jitter ms'),
    timeout: z.number().int().positive().max(MAX_MS).optional().describe('how long protocols wait for a reply (ms); default: the period'),
  }).default({ period: 1000, jitter: 0 }).describe('event engine settings'),
  transport: transportSchema.default({ latency: { model: 'constant', value: 0 }, loss: 0, bandwidth: 0 }).describe('event engine network model'),
  plugins: z.array(z.string()).default([]).describe('modules (.ts, .js) defining more protocols, observers or controls; paths relative to the scenario file'),
  attributes: z.record(z.string(), distributionSchema).default({}).describe('per-node attributes and the distribution each is drawn from'),
  protocols: z.record(z.string(), instanceBlock).describe('protocol instances by name, each with its type and parameters'),
  controls: z.record(z.string(), instanceBlock).default({}).describe('controls by name (churn and failures), each with a schedule'),
  observers: z.record(z.string(), instanceBlock).default({}).describe('observers by name, each with a schedule; each writes rows to metrics.csv'),
  expect: expectationsSchema,
});

export { scheduleKeys, scheduleSchema } from './schedule.js';

export { scheduled, type InstanceSpec, type Scenario, type Schedule, type ScheduledSpec } from '../engine/config.js';
