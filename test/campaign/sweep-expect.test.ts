import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJunit } from 'junit2json';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

/*
 * Campaign expectations through the command line (the build in dist/): `pcsim sweep`
 * checks them after the merge, `--quick` runs the small version, `pcsim check` checks
 * a campaign folder again without running anything.
 */

const pcsimBin = join(import.meta.dirname, '../../bin/pcsim.js');

function pcsim(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [pcsimBin, ...args], { encoding: 'utf8', cwd });
  return { code: result.status, stderr: result.stderr };
}

const scenario = (expect = '') => `name: tiny
seed: 3
size: 200
cycles: 8
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
  avg: { type: aggregation, function: average, init: { kind: uniform, a: 0, b: 100 } }
observers:
  avg: { type: aggregation, protocol: avg }
  overlay: { type: overlay, sample: 20, sources: 1 }
${expect}`;

function campaignFolder(experiment: string, scenarioText = scenario()): string {
  const dir = tempDir('pcsim-sweep-expect-');
  writeFileSync(join(dir, 'tiny.yaml'), scenarioText);
  writeFileSync(join(dir, 'exp.yaml'), experiment);
  return dir;
}

const experiment = `scenario: tiny.yaml
name: tiny-campaign
out: res
grid:
  protocols.cyclon.cache: [6, 10]
expect:
  live:
    observer: overlay
    metric: live
    across: every
    value: 200
  variance:
    point: { protocols.cyclon.cache: 10 }
    observer: avg
    metric: variance
    window: { from: 6 }
    of: max
    max: 1.0e-9
quick:
  set: { cycles: 5 }
  grid: { protocols.cyclon.cache: [8] }
  expect:
    variance: { point: { protocols.cyclon.cache: 8 }, observer: avg, metric: variance, max: 1000 }
`;

describe('campaign expectations on the command line', () => {
  it('sweep checks them after the merge: exit 3, each failure, JUnit XML, campaign.json; check says the same without running', { timeout: 300_000 }, async () => {
    const dir = campaignFolder(experiment);
    const swept = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--junit', 'report.xml'], dir);
    const lines = swept.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^pcsim: sweep of 2 runs: 2 completed, 0 already done, 0 failed; \d+ rows of 2 runs merged into res\/metrics\.csv$/);
    expect(lines[1]).toMatch(/^pcsim: expectation variance failed: expected avg\/variance max over cycles 6\.\.end, mean across 1 run of protocols\.cyclon\.cache=10 <= 1e-9, found [\d.e-]+ \(1 run\)$/);
    expect(lines.slice(2)).toEqual(['pcsim: expectations: 1 passed, 1 failed (JUnit XML in report.xml)']);
    expect(swept.code).toBe(3);

    const report = await parseJunit(readFileSync(join(dir, 'report.xml'), 'utf8')) as any;
    expect(report).toMatchObject({ tests: 2, failures: 1 });
    expect(report.testsuite[0].testcase.map((c: any) => [c.name, c.failure ? 'failed' : 'passed'])).toEqual([['live', 'passed'], ['variance', 'failed']]);
    const campaign = JSON.parse(readFileSync(join(dir, 'res', 'campaign.json'), 'utf8'));
    expect(campaign.expectations.map((o: any) => [o.name, o.passed])).toEqual([['live', true], ['variance', false]]);
    expect(campaign.expectations[0]).toEqual({ name: 'live', passed: true, expected: 'overlay/live at the last observation, in each of 2 runs = 200', found: '2 runs within, 200..200' });

    const checked = pcsim(['check', 'res'], dir);
    expect(checked.stderr.trimEnd().split('\n')).toEqual(lines.slice(1, 2).concat('pcsim: expectations: 1 passed, 1 failed'));
    expect(checked.code).toBe(3);
    // As from a clean clone: the runs' folders are not committed, campaign.json and metrics.csv are.
    rmSync(join(dir, 'res', 'runs'), { recursive: true });
    rmSync(join(dir, 'res', 'plan.json'));
    expect(pcsim(['check', 'res'], dir).code).toBe(3);

    // The quick version: its own values, expectations and folder.
    const quick = pcsim(['sweep', 'exp.yaml', '--quick'], dir);
    expect(quick.stderr).toMatch(/sweep of 1 run: 1 completed, 0 already done, 0 failed; \d+ rows of 1 runs merged into res-quick\/metrics\.csv\npcsim: expectations: 2 passed, 0 failed\n$/);
    expect(quick.code).toBe(0);
    const csv = readFileSync(join(dir, 'res-quick', 'metrics.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[1]).toMatch(/^tiny,8,0,3,0,/);
    expect(csv.at(-1)).toMatch(/^tiny,8,0,3,5,/);
    expect(pcsim(['check', 'res-quick'], dir).code).toBe(0);
    expect(pcsim(['plan', 'exp.yaml', '--quick', '--count'], dir).code).toBe(0);
  });

  it("a run whose own scenario expectation fails makes the sweep exit 3, also when it was already done; a failed run's 1 wins", { timeout: 300_000 }, () => {
    const failing = scenario('expect:\n  settled: { observer: overlay, metric: live, value: 199 }\n');
    const dir = campaignFolder('scenario: tiny.yaml\nout: res\n', failing);
    const first = pcsim(['sweep', 'exp.yaml'], dir);
    expect(first.stderr).toMatch(/\npcsim: run 0 \(replicate 0, seed 3\): expectation settled failed: expected overlay\/live at the last observation = 199, found 200 at cycle 8\npcsim: expectations: 0 passed, 1 failed\n$/);
    expect(first.code).toBe(3);
    const again = pcsim(['sweep', 'exp.yaml'], dir);
    expect(again.stderr).toContain('sweep of 1 run: 0 completed, 1 already done, 0 failed');
    expect(again.code).toBe(3);
    const campaign = JSON.parse(readFileSync(join(dir, 'res', 'campaign.json'), 'utf8'));
    expect(campaign.runs[0].expectations).toMatchObject([{ name: 'settled', passed: false }]);

    writeFileSync(join(dir, 'exp.yaml'), 'scenario: tiny.yaml\nout: res\ngrid:\n  size: [200, 2000000000]\n');
    const mixed = pcsim(['sweep', 'exp.yaml'], dir);
    expect(mixed.stderr).toContain('failed: --set: size: a run of 2,000,000,000 nodes');
    expect(mixed.stderr).toContain('expectation settled failed');
    expect(mixed.code).toBe(1);
  });

  it('bad use is one line, exit 2', { timeout: 120_000 }, () => {
    const dir = campaignFolder('scenario: tiny.yaml\nexpect:\n  live: { observer: overlay, metric: live, min: 1, colour: red }\n');
    const bad = pcsim(['sweep', 'exp.yaml'], dir);
    expect(bad.stderr).toMatch(/^pcsim: exp\.yaml:3: expect\.live\.colour: unknown key[^\n]*\n$/);
    expect(bad.code).toBe(2);
    writeFileSync(join(dir, 'exp.yaml'), 'scenario: tiny.yaml\n');
    const noQuick = pcsim(['plan', 'exp.yaml', '--quick'], dir);
    expect(noQuick.stderr).toBe('pcsim: exp.yaml:1: expected a quick: block (a smaller version of the campaign) for --quick, found none\n');
    expect(noQuick.code).toBe(2);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
