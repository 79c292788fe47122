import type { Outcome } from './expectations.js';

/**
 * JUnit XML for expectation outcomes, the form GitHub Actions, GitLab and Jenkins show
 * as test results: one suite per run, one test case per expectation, a failure element
 * saying what was expected and what was found.
 */
export function junitXml(suite: string, outcomes: readonly Outcome[], seconds = 0): string {
  const failures = outcomes.filter((o) => !o.passed).length;
  const cases = outcomes.map((o) => {
    const open = `    <testcase classname="${escape(suite)}" name="${escape(o.name)}" time="0"`;
    if (o.passed) return `${open}/>`;
    const message = `expected ${o.expected}, found ${o.found}`;
    return `${open}>\n      <failure message="${escape(message)}" type="expectation">${escape(message)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pcsim" tests="${outcomes.length}" failures="${failures}" errors="0" time="${seconds}">`,
    `  <testsuite name="${escape(suite)}" tests="${outcomes.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 cannot carry most control characters, even escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?');
}
