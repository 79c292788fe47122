import { z } from 'zod';
import { distributionSchema, type Distribution } from '../engine/distributions.js';
import type { EventSettings } from '../engine/event-loop.js';
import { transportSchema, type TransportSpec } from '../engine/transport.js';

/**
 * The scenario file's top level. Each protocol, observer and control block is
 * checked afterwards against its own type's schema (see validate.ts), so this
 * level only asks that they be mappings with a `type`.
 */
const instanceBlock = z.looseObject({ type: z.string() });

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).optional().describe("the run's name, written in every CSV row; default: the file's base name"),
  seed: z.number().int().min(0).default(1).describe('the seed every random stream derives from'),
  size: z.number().int().positive().describe('number of nodes at the start'),
  capacity: z.number().int().positive().optional().describe('most nodes alive at once (slots to allocate); default: size'),
  cycles: z.number().int().min(0).describe('number of cycles to run'),
  engine: z.enum(['cycle', 'event']).default('cycle').describe('cycle: lock-step rounds; event: timers, latency and messages (observer and control schedules then count in ms)'),
  event: z.strictObject({
    period: z.number().int().positive().default(1000).describe('each node\'s timer period per protocol (ms); the run lasts cycles x period'),
    jitter: z.number().int().min(0).default(0).describe('each firing moves by a uniform offset within +-jitter ms'),
    timeout: z.number().int().positive().optional().describe('how long protocols wait for a reply (ms); default: the period'),
  }).default({ period: 1000, jitter: 0 }).describe('event engine settings'),
  transport: transportSchema.default({ latency: { model: 'constant', value: 0 }, loss: 0, bandwidth: 0 }).describe('event engine network model'),
  plugins: z.array(z.string()).default([]).describe('modules (.ts, .js) defining more protocols, observers or controls; paths relative to the scenario file'),
  attributes: z.record(z.string(), distributionSchema).default({}).describe('per-node attributes and the distribution each is drawn from'),
  protocols: z.record(z.string(), instanceBlock).describe('protocol instances by name, each with its type and parameters'),
  controls: z.record(z.string(), instanceBlock).default({}).describe('controls by name (churn and failures), each with a schedule'),
  observers: z.record(z.string(), instanceBlock).default({}).describe('observers by name, each with a schedule; each writes rows to metrics.csv'),
});

/**
 * When a control or observer runs. Cycle k means: after k cycles (0 is the initial
 * state). In the event engine the keys count ms, and `every` defaults to one period.
 */
export const scheduleSchema = z.strictObject({
  every: z.number().int().positive().optional().describe('run every this many cycles (event engine: ms); default: every cycle (event engine: every period, or every ms for sessions and trace)'),
  from: z.number().int().min(0).default(0).describe('first cycle (event engine: ms) to run at'),
  until: z.number().int().min(0).optional().describe('last cycle (event engine: ms) to run at; default: the last cycle'),
  final: z.boolean().default(false).describe('also run after the last cycle even when off the every/from grid'),
});
export const scheduleKeys = Object.keys(scheduleSchema.shape) as (keyof Schedule)[];
export type Schedule = z.infer<typeof scheduleSchema> & { readonly every: number };

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
