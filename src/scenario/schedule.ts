import { z } from 'zod';
import { describeValue } from './describe-issue.js';
import type { Schedule } from './schema.js';

/** A duration in the event engine: a number and a unit, `250ms`, `2s`, `1.5min`, `1h`. */
const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)\s*$/;
const msPerUnit: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

const count = (what: string) => z.union([z.number(), z.string()]).describe(what);

/**
 * When a control or observer runs, as written in a scenario. A number counts cycles
 * (cycle engine) or periods (event engine); in the event engine a duration string
 * (`250ms`, `2s`) may be given instead. The loader resolves both to the engine's own
 * unit (cycles, or ms), see resolveSchedule.
 */
export const scheduleSchema = z.strictObject({
  every: count('run every this many cycles (event engine: periods, or a duration such as "250ms"); default: every cycle (event engine: every period, or every ms for sessions and trace)').optional(),
  from: count('first cycle (event engine: period, or a time such as "2s") to run at').default(0),
  until: count('last cycle (event engine: period, or a time) to run at; default: the end of the run').optional(),
  final: z.boolean().default(false).describe('also run after the last cycle even when off the every/from grid'),
});
export const scheduleKeys = Object.keys(scheduleSchema.shape) as (keyof typeof scheduleSchema.shape)[];

/** What the loader parses: the same keys, with every/from/until checked by resolveSchedule (for messages in the scenario's unit). */
export const writtenScheduleSchema = scheduleSchema.extend({
  every: z.unknown().optional(),
  from: z.unknown().default(0),
  until: z.unknown().optional(),
});

/** What the resolution needs to know of the scenario. */
export interface ScheduleFacts {
  readonly engine: 'cycle' | 'event';
  readonly cycles: number;
  /** The event engine's period (ms). */
  readonly period: number;
}

/** A problem with one schedule key: thrown to the loader, which locates it. */
export class ScheduleProblem extends Error {
  constructor(readonly key: 'every' | 'from' | 'until', readonly detail: string) {
    super(detail);
  }
}

type Written = z.infer<typeof writtenScheduleSchema>;

/**
 * The schedule in the engine's unit: cycles in the cycle engine, ms in the event
 * engine. `every` defaults to one cycle or period (`continuous` controls, whose
 * changes fall at times of their own: 1 ms). A schedule that could never take effect
 * is an error: `from` after `until`, `from` after the end of the run, or (a control,
 * which first runs after cycle 0) `every` beyond the run when `from` is 0, or (an
 * observer) an `every` that leaves a single observation of a longer window. With
 * `final`, it runs at the end in any case, so only from > until is refused then.
 */
export function resolveSchedule(written: Written, facts: ScheduleFacts, kind: 'observer' | 'control', continuous: boolean): Schedule {
  const event = facts.engine === 'event';
  const unit = event ? 'period' : 'cycle';
  const every = written.every === undefined ? (event && continuous ? 1 : toEngineUnit('every', 1, facts)) : toEngineUnit('every', written.every, facts);
  const from = toEngineUnit('from', written.from, facts);
  const until = written.until === undefined ? undefined : toEngineUnit('until', written.until, facts);
  if (every <= 0) throw new ScheduleProblem('every', `expected a ${event ? 'duration' : 'number of cycles'} > 0, found ${describeValue(written.every)}`);

  const end = event ? facts.cycles * facts.period : facts.cycles;
  const at = (value: number) => (event ? `${value} ms` : `cycle ${value}`);
  const endText = event ? `${facts.cycles} ${unit}s = ${end} ms` : `${end} cycles`;
  if (until !== undefined && until < from) {
    throw new ScheduleProblem('until', `expected a time at or after from (${at(from)}), found ${describeValue(written.until)}${event ? ` (${until} ms)` : ''}`);
  }
  if (!written.final) {
    if (from > end) throw new ScheduleProblem('from', `expected a time within the run (${endText}), found ${describeValue(written.from)}${event ? ` (${from} ms)` : ''}: it would never run`);
    // A control first runs after cycle (or time) 0: at `from`, or at `every` when from is 0.
    const first = kind === 'control' && from === 0 ? every : from;
    const last = Math.min(until ?? end, end);
    if (first > last) {
      const key = written.until !== undefined && until! < end ? 'until' : 'every';
      throw new ScheduleProblem(key, `expected the ${kind} to run at least once: it first runs at ${at(first)}, after ${written.until !== undefined && until! < end ? `until (${at(until!)})` : `the end of the run (${endText})`}`);
    }
    // An `every` longer than the window leaves one observation: most likely a length
    // meant in another unit (ms written as periods); `until` says "once" plainly.
    if (kind === 'observer' && written.every !== undefined && first + every > last && first < last) {
      throw new ScheduleProblem('every', `expected at most the observer's window (${at(first)} to ${at(last)}), found ${describeValue(written.every)}${event ? ` (${every} ms; a duration is written like "250ms")` : ''}: it would observe only at ${at(first)} (for that, say until: ${describeValue(written.from)})`);
    }
  }
  return { every, from, ...(until === undefined ? {} : { until }), final: written.final };
}

/** A written count (cycles or periods) or duration in the engine's unit. */
function toEngineUnit(key: 'every' | 'from' | 'until', value: unknown, facts: ScheduleFacts): number {
  const event = facts.engine === 'event';
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new ScheduleProblem(key, `expected a whole number of ${event ? 'periods (or a duration such as "250ms")' : 'cycles'}, found ${describeValue(value)}`);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ScheduleProblem(key, `expected a whole number of ${event ? 'periods' : 'cycles'}${event ? ' (or a duration such as "250ms")' : ''}, found ${value}`);
    }
    if (!event) return value;
    const ms = value * facts.period;
    if (!Number.isSafeInteger(ms)) throw new ScheduleProblem(key, `expected at most ${Math.floor(Number.MAX_SAFE_INTEGER / facts.period)} periods, found ${value}`);
    return ms;
  }
  const match = durationPattern.exec(value);
  if (!event) {
    throw new ScheduleProblem(key, `expected a whole number of cycles, found ${JSON.stringify(value)}${match ? ' (durations such as "250ms" count only in the event engine)' : ''}`);
  }
  if (!match) throw new ScheduleProblem(key, `expected a whole number of periods or a duration such as "250ms", "2s", "1min", found ${JSON.stringify(value)}`);
  // Rounded at a millionth of a ms first: 1.1 * 1000 is 1100.0000000000002 in floating point.
  const ms = Math.round(Number(match[1]) * msPerUnit[match[2]] * 1e6) / 1e6;
  if (!Number.isSafeInteger(ms)) throw new ScheduleProblem(key, `expected a whole number of ms, found ${JSON.stringify(value)} (${ms} ms)`);
  return ms;
}

