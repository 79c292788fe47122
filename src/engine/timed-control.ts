import type { Schedule } from './config.js';
import type { ControlInstance } from './protocol.js';

/**
 * A control whose changes fall at times of its own (session ends, trace events): the
 * engine runs it only at the scheduled times when something is due, so that its cost
 * follows its changes, not the number of scheduled times (every ms in the event engine).
 */
export interface TimedControl extends ControlInstance {
  /**
   * Whether execute(cycle) would change anything now: exact, and once true it stays
   * true until execute runs (it may turn true when another control changes the population).
   */
  isDue(cycle: number): boolean;
  /** A lower bound of the first cycle at which isDue turns true by itself: Infinity if never, -Infinity if now. */
  dueAt(): number;
}

export function isTimed(control: ControlInstance): control is TimedControl {
  return typeof (control as Partial<TimedControl>).isDue === 'function' && typeof (control as Partial<TimedControl>).dueAt === 'function';
}

/**
 * The first time after `after` (in the engine's unit: `period` per cycle) at which
 * `schedule` is due and `control` has something to do; Infinity if none before `end`.
 * `nextTime` is the schedule's own next time (see Simulation).
 */
export function firstDueTime(
  control: TimedControl, schedule: Schedule, after: number, end: number, period: number,
  nextTime: (schedule: Schedule, after: number, end: number) => number,
): number {
  let time = nextTime(schedule, after, end);
  const estimate = control.dueAt() * period;
  if (estimate === Infinity) return Infinity;
  // Straight to the schedule's time just before the estimate; then step to the first one due.
  if (estimate > time) time = Math.max(time, nextTime(schedule, estimate - schedule.every, end));
  while (time !== Infinity && !control.isDue(time / period)) time = nextTime(schedule, time, end);
  return time;
}
