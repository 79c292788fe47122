import type { Outcome } from './expectations.js';

/** Outcomes under one name: a run's, or a campaign's. */
export interface Suite {
  readonly name: string;
  readonly outcomes: readonly Outcome[];
}

/**
 * JUnit XML for expectation outcomes, the form GitHub Actions, GitLab and Jenkins show
 * as test results: one suite per run, one test case per expectation, a failure element
 * saying what was expected and what was found.
 */
export function junitXml(suite: string, outcomes: readonly Outcome[], seconds = 0): string {
  return junitSuites([{ name: suite, outcomes }], seconds);
}

/** JUnit XML for several suites (a campaign's expectations, and each run's). */
export function junitSuites(suites: readonly Suite[], seconds = 0): string {
  const count = (outcomes: readonly Outcome[]) => ({ tests: outcomes.length, failures: outcomes.filter((o) => !o.passed).length });
  const total = count(suites.flatMap((s) => s.outcomes));
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="pcsim" tests="${total.tests}" failures="${total.failures}" errors="0" time="${seconds}">`];
  for (const { name, outcomes } of suites) {
    const { tests, failures } = count(outcomes);
    lines.push(`  <testsuite name="${escape(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${suites.length === 1 ? seconds : 0}">`);
    for (const o of outcomes) {
      const open = `    <testcase classname="${escape(name)}" name="${escape(o.name)}" time="0"`;
      if (o.passed) {
        lines.push(`${open}/>`);
        continue;
      }
      const message = `expected ${o.expected}, found ${o.found}`;
      lines.push(`${open}>`, `      <failure message="${escape(message)}" type="expectation">${escape(message)}</failure>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 cannot carry most control characters, even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?');
}
