import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  baseScenarios, expectNoPrototypePollution, fuzzDir, fuzzRuns, fuzzSeed, loadAndBuild, pathsOf, Tally, writeScenario,
} from './fuzz-helpers.js';

/** Value texts as typed on a command line: YAML of every kind, broken YAML, odd characters. */
const valueTexts = [
  '1', '0', '-1', '1.5', '1e400', '.inf', '.nan', '2147483648', '1000000000', 'true', 'null', '~', '', ' ', 'x', 'cyclon', '250ms', '2s',
  '[1', '[1, 2]', '[[0], [1]]', '{', '{a: 1}', '{type: churn, remove: 0.01}', '{type: churn}', '{type: cyclon, cache: 3}', '{dist: constant, value: 1}',
  "'unterminated", '"x', '*alias', '&a 1', '&a [*a]', '!!binary aGk=', '!!set {a, b}', '- a\n- b', 'a: b: c', 'a=b', '---\n1\n---\n2', '%YAML 1.1\n---\n1',
  '\u0000', '\ufeff1', '\u2028', 'ü', '#comment', '? [a]\n: 1', '{__proto__: {size: 5}}', '{constructor: 1}', '[' .repeat(200),
];

/** Key paths: real ones (from the scenario), new ones, misspelt, list indices, prototype names, malformed. */
const extraPaths = [
  'size', 'seed', 'capacity', 'cycles', 'engine', 'name', 'event.period', 'event.perod', 'transport.loss', 'transport.latency.model',
  'controls.c', 'controls.c.type', 'controls.c.remove', 'controls.c.every', 'observers.o.type', 'protocols.p.type', 'protocls.x',
  'plugins.0', 'plugins.1', 'plugins.x', 'attributes.region.values.1', 'attributes.region.values.9', 'attributes.new.dist',
  '__proto__.size', 'constructor.prototype.x', 'protocols.__proto__', 'prototype', 'a..b', '.size', 'size.', 'size.x', 'controls.0.type',
  'observers.overlay.evry', 'observers.overlay.from', 'observers.overlay.until', 'x'.repeat(100),
];

/**
 * Generated `--set` overrides (paths and values, and `--seed`s) on valid small
 * scenarios: each case must build or fail with one line that names `--set`,
 * `--seed` or the file.
 */
describe('fuzzed --set overrides', () => {
  const dir = fuzzDir();
  const bases = baseScenarios();
  const files = bases.map((base, i) => writeScenario(dir, `base${i}.yaml`, base));
  const realPaths = bases.map((base) => pathsOf(base).map((path) => path.join('.')));

  it(`apply, or fail with one located line (${fuzzRuns} cases)`, async () => {
    const tally = new Tally();
    const assignment = fc.record({
      path: fc.oneof(
        { weight: 4, arbitrary: fc.nat().map((i) => ({ real: i })) },
        { weight: 2, arbitrary: fc.constantFrom(...extraPaths).map((p) => ({ extra: p })) },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((p) => ({ extra: p })) },
      ),
      value: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('0', '1', '2', '3', '5', '0.5', '0.01', 'true', 'false', 'random', 'top', 'event', 'cycle') },
        { weight: 3, arbitrary: fc.constantFrom(...valueTexts) },
        { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
      ),
      form: fc.oneof({ weight: 20, arbitrary: fc.constant('plain') }, { weight: 1, arbitrary: fc.constantFrom('no-equals', 'empty-key') }),
    });
    const overrides = fc.record({
      base: fc.nat({ max: bases.length - 1 }),
      set: fc.array(assignment, { minLength: 1, maxLength: 3 }),
      seed: fc.option(fc.constantFrom(0, 1, 7, 2 ** 32, -1, 1.5, 2 ** 53, Number.NaN, 1e300), { freq: 2 }),
    });
    await fc.assert(fc.asyncProperty(overrides, async ({ base, set, seed }) => {
      const texts = set.map(({ path, value, form }) => {
        const key = 'real' in path ? realPaths[base][path.real % realPaths[base].length] : path.extra;
        if (form === 'no-equals') return key;
        if (form === 'empty-key') return `=${value}`;
        return `${key}=${value}`;
      });
      tally.add(await loadAndBuild(files[base], dir, { set: texts, ...(seed === null ? {} : { seed }) }));
    }), { numRuns: fuzzRuns, seed: fuzzSeed });
    expectNoPrototypePollution();
    expect(tally.built).toBeGreaterThan(0);
    if (process.env.FUZZ_REPORT) writeFileSync(`${process.env.FUZZ_REPORT}-set.txt`, [...tally.examples.values()].join('\n'));
    console.info(`--set fuzz: ${tally.summary()}`);
    if (process.env.FUZZ_REPORT) console.info(tally.topKinds(15).join("\n"));
  });
});
