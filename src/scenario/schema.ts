import { z } from 'zod';
import { distributionSchema, type Distribution } from '../engine/distributions.js';
import type { EventSettings } from '../engine/event-loop.js';
import { transportSchema, type TransportSpec } from '../engine/transport.js';

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
});

export { scheduleKeys, scheduleSchema } from './schedule.js';

/**
 * When a control or observer runs, resolved to the engine's unit: cycles, or ms in the
 * event engine. Cycle (or time) k means: after k cycles (0 is the initial state).
 */
export interface Schedule {
  readonly every: number;
  readonly from: number;
  /** Last cycle (or time) to run at; none: the end of the run. */
  readonly until?: number;
  /** Also run at the end of the run when it is off the every/from grid. */
  readonly final: boolean;
}

export interface InstanceSpec { readonly type: string; readonly params: Record<string, unknown> }
export interface ScheduledSpec extends InstanceSpec { readonly schedule: Schedule }

/** A validated scenario with every default filled in. */
export interface Scenario {
  readonly name: string;
  /** Folder of the scenario file: relative paths in it (plug-ins, traces) resolve from here. */
  readonly dir: string;
  readonly seed: number;
  readonly size: number;
  readonly capacity: number;
  readonly cycles: number;
  readonly engine: 'cycle' | 'event';
  readonly event: EventSettings;
  readonly transport: TransportSpec;
  readonly plugins: readonly string[];
  readonly attributes: Readonly<Record<string, Distribution>>;
  readonly protocols: Readonly<Record<string, InstanceSpec>>;
  readonly controls: Readonly<Record<string, ScheduledSpec>>;
  readonly observers: Readonly<Record<string, ScheduledSpec>>;
}

export function scheduled(schedule: Schedule, cycle: number, lastCycle: number): boolean {
  const until = schedule.until ?? lastCycle;
  if (schedule.final && cycle === lastCycle) return true;
  return cycle >= schedule.from && cycle <= until && (cycle - schedule.from) % schedule.every === 0;
}
