import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run.js';
import { tempDir } from './helpers.js';

/**
 * Golden outputs, as SimGrid's .tesh files: each scenario in test/golden/ must give
 * exactly the metrics.csv committed in results/golden/. A difference is shown as the
 * first rows that differ, not as a hash. After a change that alters results on
 * purpose, `UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts` rewrites the files;
 * say why in the commit.
 */
const scenarios = readdirSync('test/golden').filter((file) => file.endsWith('.yaml')).sort();

/** The first differing rows, with a few before them, as "line N: expected ... / found ...". */
function firstDifferences(expected: string, found: string, show = 5): string {
  const a = expected.split('\n');
  const b = found.split('\n');
  const first = a.findIndex((line, i) => line !== b[i]);
  const start = first === -1 ? Math.min(a.length, b.length) : first;
  const lines = [`${a.length} rows expected, ${b.length} found; first difference at line ${start + 1}:`];
  for (let i = Math.max(0, start - 2); i < start + show && (i < a.length || i < b.length); i++) {
    if (a[i] === b[i]) lines.push(`  line ${i + 1}:   ${a[i]}`);
    else lines.push(`  line ${i + 1}: - ${a[i] ?? '(none)'}`, `  line ${i + 1}: + ${b[i] ?? '(none)'}`);
  }
  return lines.join('\n');
}

describe('golden outputs', () => {
  it.each(scenarios)('%s gives its committed metrics.csv, byte for byte', async (file) => {
    const out = join(tempDir(), 'out');
    await runScenario(join('test/golden', file), { out });
    const found = readFileSync(join(out, 'metrics.csv'), 'utf8');
    const golden = join('results/golden', `${basename(file, '.yaml')}.csv`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, found);
    if (!existsSync(golden)) expect.fail(`${golden} is missing: UPDATE_GOLDEN=1 writes it`);
    const expected = readFileSync(golden, 'utf8');
    if (found !== expected) expect.fail(`${golden} differs:\n${firstDifferences(expected, found)}`);
  });

  it('shows a difference as the rows that differ', () => {
    const diff = firstDifferences('h\na,1\nb,2\nc,3', 'h\na,1\nb,9\nc,3');
    expect(diff).toContain('first difference at line 3');
    expect(diff).toContain('line 3: - b,2');
    expect(diff).toContain('line 3: + b,9');
  });
});
