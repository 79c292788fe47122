import type { ParamProblem, ScenarioFacts } from '../engine/protocol.js';

/** A control's one-off cycle (`at`, `start`) must fall within the run: after it, the control would silently do nothing. */
export function withinRun(key: string, cycle: number, scenario: ScenarioFacts): ParamProblem[] {
  const unit = scenario.engine === 'event' ? 'periods' : 'cycles';
  return cycle > scenario.cycles
    ? [{ key, message: `expected a cycle within the run (at most ${scenario.cycles} ${unit}), found ${cycle}` }]
    : [];
}
