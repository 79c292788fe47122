import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  baseScenarios, expectNoPrototypePollution, fuzzDir, fuzzRuns, fuzzSeed, loadAndBuild, mutateText, mutateTree,
  Tally, textMutation, treeMutation, writeScenario,
} from './fuzz-helpers.js';

/**
 * Generated bad scenarios: the shipped ones (at a few hundred nodes) and two small
 * ones using most features, with wrong types, unknown and misspelt keys, out-of-range
 * and huge numbers, deleted keys, YAML syntax damage, aliases and alias bombs,
 * prototype keys, duplicated lines and bytes that are not UTF-8. Each is loaded and
 * built (not run): it must build, or fail with one clean line, within the time limit.
 */
describe('fuzzed scenario files', () => {
  const dir = fuzzDir();
  const bases = baseScenarios();

  it(`load and build, or fail with one located line (${fuzzRuns} cases)`, async () => {
    const tally = new Tally();
    const scenario = fc.record({
      base: fc.nat({ max: bases.length - 1 }),
      tree: fc.array(treeMutation, { maxLength: 3 }),
      text: fc.array(textMutation, { maxLength: 2 }),
    }).filter(({ tree, text }) => tree.length + text.length > 0);
    await fc.assert(fc.asyncProperty(scenario, async ({ base, tree, text }) => {
      const mutated = mutateTree(bases[base], tree);
      const file = writeScenario(dir, 'scenario.yaml', text.length > 0 ? mutateText(stringify(mutated), text) : mutated);
      tally.add(await loadAndBuild(file, dir));
    }), { numRuns: fuzzRuns, seed: fuzzSeed });
    expectNoPrototypePollution();
    // Most mutants are bad; some still build.
    expect(tally.failed).toBeGreaterThan(fuzzRuns / 2);
    if (process.env.FUZZ_REPORT) writeFileSync(`${process.env.FUZZ_REPORT}-scenario.txt`, [...tally.examples.values()].join('\n'));
    console.info(`scenario fuzz: ${tally.summary()}`);
  });
});
