import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ScenarioError } from '../engine/errors.js';
import { checkRunFolder, describeFailures, diffRuns, EXPECTATIONS_FAILED, readRunFolder } from './check-run.js';
import { junitSuites, type Suite } from './junit.js';

/**
 * Checks the expectations of a finished run's folder: prints each failure (name,
 * expected, found) and a last line on stderr, writes JUnit XML if asked, and returns
 * the exit code: 0 if all held (or there were none), EXPECTATIONS_FAILED otherwise.
 */
export function reportExpectations(dir: string, junit?: string, onNone?: () => void): number {
  const { suite, outcomes } = checkRunFolder(dir);
  const { checked, failed } = reportSuites([{ name: suite, outcomes }], junit);
  if (checked === 0) onNone?.();
  return failed > 0 ? EXPECTATIONS_FAILED : 0;
}

/** Outcomes under a name; `label` (if any) starts each of their failure lines. */
export interface LabelledSuite extends Suite {
  readonly label?: string;
}

/**
 * When there are outcomes, prints each failure (name, expected, found) and a last line
 * counting them on stderr; then writes the suites' JUnit XML if asked, creating its
 * folder (so that a failure to write it never hides the outcomes). Returns the counts.
 */
export function reportSuites(suites: readonly LabelledSuite[], junit?: string): { checked: number; failed: number } {
  const checked = suites.reduce((n, s) => n + s.outcomes.length, 0);
  let failed = 0;
  if (checked > 0) {
    for (const { label, outcomes } of suites) {
      for (const line of describeFailures(outcomes)) {
        failed++;
        process.stderr.write(`pcsim: ${label ? `${label}: ` : ''}${line}\n`);
      }
    }
    process.stderr.write(`pcsim: expectations: ${checked - failed} passed, ${failed} failed${junit ? ` (JUnit XML in ${junit})` : ''}\n`);
  }
  if (junit !== undefined) {
    try {
      mkdirSync(dirname(junit), { recursive: true });
      writeFileSync(junit, junitSuites(suites));
    } catch (error) {
      throw new ScenarioError('', `cannot write ${junit}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, '--junit');
    }
  }
  return { checked, failed };
}

/** `pcsim check <dir>`: a finished run's expectations, without running it again. */
export function checkCommand(args: { dir: string; junit?: string }): void {
  process.exitCode = reportExpectations(args.dir, args.junit, () => process.stderr.write(`pcsim: ${args.dir}: its scenario states no expectations\n`));
}

/**
 * `pcsim diff <a> <b>`: two runs' results metric by metric. Prints one line per metric
 * that differs (rows, rows differing, the largest difference, the first one) and exits
 * EXPECTATIONS_FAILED if any does, 0 if they agree within the tolerance.
 */
export function diffCommand(args: { a: string; b: string; tolerance?: number; relative?: number }): void {
  const a = readRunFolder(args.a);
  const b = readRunFolder(args.b);
  const lines = diffRuns(a.rows, b.rows, args.tolerance ?? 0, args.relative ?? 0);
  for (const l of lines) {
    process.stdout.write(`${l.metric}: ${l.differing} of ${l.rows} rows differ, by up to ${l.maxDifference}; first: ${l.first}\n`);
  }
  const metrics = new Set(a.rows.map((r) => `${r.observer}/${r.metric}`)).size;
  process.stderr.write(`pcsim: ${lines.length === 0 ? `the same ${metrics} metrics` : `${lines.length} of ${metrics} metrics differ`}${args.tolerance || args.relative ? ' within the tolerance' : ''}\n`);
  process.exitCode = lines.length === 0 ? 0 : EXPECTATIONS_FAILED;
}
