import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

/*
 * Regression checks: the quick version of every experiment (experiments/<name>/
 * experiment.yaml) runs through `pcsim sweep --quick` (the build in dist/) and its
 * expectations must hold, the same mechanism users get. A fixture experiment checks
 * the mechanism itself, whatever experiments exist.
 */

const root = join(import.meta.dirname, '..');
const pcsimBin = join(root, 'bin/pcsim.js');

/** The experiment files of the folders under `dir` that hold one, by folder name. */
function experimentFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'experiment.yaml')))
    .map((entry) => join(dir, entry.name, 'experiment.yaml'))
    .sort();
}

function sweepQuick(file: string): { code: number | null; output: string } {
  const out = join(tempDir('pcsim-experiment-'), 'quick');
  const result = spawnSync(process.execPath, [pcsimBin, 'sweep', file, '--quick', '--out', out, '--jobs', '2', '--no-progress'], { encoding: 'utf8', cwd: root });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

const experiments = experimentFiles(join(root, 'experiments'));

describe('experiments, quick versions', () => {
  it('the fixture experiment passes its quick expectations', { timeout: 600_000 }, () => {
    const [fixture] = experimentFiles(join(root, 'test/fixtures/experiments'));
    const { code, output } = sweepQuick(fixture);
    expect(output).toMatch(/expectations: 2 passed, 0 failed\n$/);
    expect(code, output).toBe(0);
  });

  it('finds the experiments', () => {
    expect(experiments.length).toBeGreaterThan(0);
  });

  for (const file of experiments) {
    it(file.slice(root.length + 1), { timeout: 900_000 }, () => {
      const { code, output } = sweepQuick(file);
      expect(code, output).toBe(0);
      // An experiment whose quick version states nothing would pass whatever it found.
      expect(output).toMatch(/expectations: [1-9]\d* passed, 0 failed\n$/);
    });
  }
});
