import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzDir, fuzzRuns, fuzzSeed, loadAndBuild, mutateText, Tally, textMutation, writeScenario } from './fuzz-helpers.js';

/** Fields as they appear in real and broken traces. */
const field = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 500 }).map(String) },
  { weight: 2, arbitrary: fc.double({ noNaN: false }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('-1', '1e400', 'NaN', 'Infinity', '0x10', '1_000', '', ' ', '"', '""', '"a,b"', '#', 'node', 'a', 'ü', '\t', '\r', '9'.repeat(40)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const line = fc.array(field, { minLength: 0, maxLength: 9 });

/** A well-formed .avt or CSV trace of a few nodes, as a base for mutations. */
const wellFormed = fc.array(fc.array(fc.tuple(fc.nat({ max: 50 }), fc.nat({ max: 20 })), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 })
  .map((nodes) => ({
    avt: nodes.map((intervals, i) => `n${i} ${intervals.length} ${intervals.map(([s, d]) => `${s} ${s + d}`).join(' ')}`).join('\n'),
    csv: `node,up_start,up_end\n${nodes.flatMap((intervals, i) => intervals.map(([s, d]) => `n${i},${s},${s + d}`)).join('\n')}`,
  }));

/**
 * Generated availability traces (.avt and CSV): random lines of odd fields, and
 * well-formed traces with syntax damage and bytes that are not UTF-8. A scenario that
 * replays each is loaded and built: it must build or fail with one line naming the
 * trace file and line (or the scenario key that names the file).
 */
describe('fuzzed trace files', () => {
  const dir = fuzzDir();
  const formats = ['avt', 'csv'] as const;
  const scenarios = Object.fromEntries(formats.map((format) => [format, writeScenario(dir, `replay-${format}.yaml`, {
    size: 40, cycles: 3,
    protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 2 } },
    controls: { trace: { type: 'trace', file: `trace.${format}`, unit: 2 } },
  })]));
  const sample = readFileSync('scenarios/traces/sample.avt', 'utf8').split('\n').slice(0, 30).join('\n');

  it(`are read, or fail with one located line (${fuzzRuns} cases)`, async () => {
    const tally = new Tally();
    const trace = fc.record({
      format: fc.constantFrom(...formats),
      source: fc.oneof(
        { weight: 3, arbitrary: fc.array(line, { maxLength: 12 }).map((lines) => ({ kind: 'fields' as const, lines })) },
        { weight: 3, arbitrary: wellFormed.map((text) => ({ kind: 'well-formed' as const, text })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'sample' as const }) },
      ),
      separator: fc.constantFrom(' ', ',', '\t', '  '),
      damage: fc.array(textMutation, { maxLength: 3 }),
    });
    await fc.assert(fc.asyncProperty(trace, async ({ format, source, separator, damage }) => {
      const text = source.kind === 'fields' ? source.lines.map((fields) => fields.join(separator)).join('\n')
        : source.kind === 'well-formed' ? source.text[format] : sample;
      writeFileSync(join(dir, `trace.${format}`), mutateText(text, damage));
      tally.add(await loadAndBuild(scenarios[format], dir));
    }), { numRuns: fuzzRuns, seed: fuzzSeed });
    expect(tally.built).toBeGreaterThan(0);
    expect(tally.failed).toBeGreaterThan(0);
    if (process.env.FUZZ_REPORT) writeFileSync(`${process.env.FUZZ_REPORT}-trace.txt`, [...tally.examples.values()].join('\n'));
    console.info(`trace fuzz: ${tally.summary()}`);
  });
});
