import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJunit } from 'junit2json';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

/** `pcsim run`, `check` and `diff` with expectations, in real processes (bin/pcsim.js runs dist/: build first). */
const pcsim = (...args: string[]) => spawnSync(process.execPath, ['bin/pcsim.js', ...args], { encoding: 'utf8' });
const dir = tempDir('pcsim-expect-');

const scenario = (expect: string) => `name: expect
size: 500
cycles: 12
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
  avg: { type: aggregation, function: average, init: { kind: uniform, a: 0, b: 100 } }
observers:
  avg: { type: aggregation, protocol: avg }
  overlay: { type: overlay, every: 4 }
expect:
${expect}
`;
const passing = `  converged: { observer: avg, metric: variance, max: 1.0e-3 }
  live: { observer: overlay, metric: live, window: { from: 0 }, value: 500 }`;
const failing = `  converged: { observer: avg, metric: variance, max: 1.0e-3 }
  too-soon: { observer: avg, metric: variance, at: 2, max: 1.0e-9 }
  live: { observer: overlay, metric: live, window: { from: 0 }, value: 500 }
  wrong: { observer: overlay, metric: live, value: 400, relative: 0.1 }`;

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('expectations on the command line', () => {
  it('a run whose expectations hold exits 0; one whose expectations fail exits 3, says which, and writes JUnit XML a parser reads', async () => {
    const good = pcsim('run', write('good.yaml', scenario(passing)), '--out', join(dir, 'good'), '--junit', join(dir, 'good.xml'));
    expect(good.stderr).toContain('expectations: 2 passed, 0 failed');
    expect(good.status).toBe(0);

    const bad = pcsim('run', write('bad.yaml', scenario(failing)), '--out', join(dir, 'bad'), '--junit', join(dir, 'bad.xml'));
    expect(bad.status).toBe(3);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toContain('pcsim: expectation too-soon failed: expected avg/variance at cycle 2 <= 1e-9, found ' + lines.find((l) => l.includes('too-soon'))!.split('found ')[1]);
    expect(bad.stderr).toMatch(/expectation wrong failed: expected overlay\/live at the last observation = 400 ± 10%, found 500 at cycle 12/);
    expect(lines.at(-1)).toBe(`pcsim: expectations: 2 passed, 2 failed (JUnit XML in ${join(dir, 'bad.xml')})`);

    const report = await parseJunit(readFileSync(join(dir, 'bad.xml'), 'utf8')) as any;
    expect(report).toMatchObject({ name: 'pcsim', tests: 4, failures: 2, errors: 0 });
    const suite = report.testsuite[0];
    expect(suite).toMatchObject({ name: 'expect', tests: 4, failures: 2 });
    expect(suite.testcase.map((c: any) => [c.name, c.failure ? 'failed' : 'passed']))
      .toEqual([['converged', 'passed'], ['too-soon', 'failed'], ['live', 'passed'], ['wrong', 'failed']]);
    expect(suite.testcase[3].failure[0].message).toBe('expected overlay/live at the last observation = 400 ± 10%, found 500 at cycle 12');
  });

  it('check reads a finished run without running it again; diff compares two runs metric by metric', () => {
    const bad = join(dir, 'bad');
    const checked = pcsim('check', bad);
    expect(checked.status).toBe(3);
    expect(checked.stderr).toContain('expectations: 2 passed, 2 failed');
    // A JUnit file in a folder not made yet (a CI job's junit/): the folder is created.
    const nested = join(dir, 'junit', 'deeper', 'bad.xml');
    expect(pcsim('check', bad, '--junit', nested).status).toBe(3);
    expect(readFileSync(nested, 'utf8')).toContain('<testsuites');

    const same = pcsim('diff', join(dir, 'good'), bad);
    expect(same.status).toBe(0);
    expect(same.stderr.trim()).toBe('pcsim: the same 19 metrics');

    const other = pcsim('run', write('seed2.yaml', scenario(passing)), '--seed', '2', '--out', join(dir, 'seed2'));
    expect(other.status).toBe(0);
    const differ = pcsim('diff', join(dir, 'good'), join(dir, 'seed2'));
    expect(differ.status).toBe(3);
    expect(differ.stdout).toMatch(/^avg\/mean: 13 of 13 rows differ, by up to [\d.e-]+; first: [\d.e+-]+ vs [\d.e+-]+ at 0$/m);
    expect(differ.stdout).not.toMatch(/^overlay\/live/m);
    expect(pcsim('diff', join(dir, 'good'), join(dir, 'seed2'), '--tolerance', '1000').status).toBe(0);
  });

  it('a folder that is not a run, or a golden file that cannot be read, is bad input: one line, exit 2', () => {
    const missing = pcsim('check', join(dir, 'nothing'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`pcsim: ${join(dir, 'nothing', 'manifest.json')}: no such file: expected the folder of a pcsim run\n`);
    const noGolden = pcsim('run', write('golden.yaml', scenario('  same: { golden: missing.csv }')), '--out', join(dir, 'golden'));
    expect(noGolden.status).toBe(2);
    expect(noGolden.stderr).toMatch(/^pcsim: .*missing\.csv: cannot read it \(ENOENT\)\n$/m);
  });
});
