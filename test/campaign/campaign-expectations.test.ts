import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { campaignExpectationsSchema } from '../../src/campaign/campaign-expectations.js';
import { checkCampaignExpectations, checkMergedCampaign, isCampaignFolder, type RunResult } from '../../src/campaign/check-campaign.js';
import { loadExperiment } from '../../src/campaign/experiment.js';
import { planCampaign } from '../../src/campaign/plan.js';
import { ScenarioError } from '../../src/engine/errors.js';
import type { Row } from '../../src/expect/expectations.js';
import { tempDir } from '../helpers.js';

/** A run whose metric `m` of observer `o` takes these values at cycles 0, 1, 2... */
function run(index: number, params: Record<string, string>, values: number[], unit = 1): RunResult {
  const rows: Row[] = values.map((value, i) => ({ at: i * unit, observer: 'o', metric: 'm', value }));
  return { index, params, replicate: index % 2, seed: 100 + index, status: 'completed', unit, rows };
}

// Two points (n = 100 and n = 1000), two replicates each.
const runs = [
  run(0, { n: '100' }, [1, 0.5, 0.3]),
  run(1, { n: '100' }, [1, 0.5, 0.5]),
  run(2, { n: '1e3' }, [1, 0.2, 0.1]),
  run(3, { n: '1e3' }, [1, 0.4, 0.3]),
];
const check = (spec: Record<string, unknown>, of: readonly RunResult[] = runs) =>
  checkCampaignExpectations(campaignExpectationsSchema.parse(spec), of);
const base = { observer: 'o', metric: 'm' };

describe('campaign expectations', () => {
  it('reduce each run to one value (last, at, window), then the runs to their mean, min or max', () => {
    const [mean, min, max, at, windowMax] = check({
      mean: { ...base, value: 0.3, tolerance: 0.001 },
      min: { ...base, across: 'min', value: 0.1 },
      max: { ...base, across: 'max', max: 0.4 },
      at: { ...base, at: 1, across: 'mean', value: 0.4 },
      windowMax: { ...base, window: { from: 1, to: 2 }, of: 'max', across: 'mean', value: 0.4, relative: 0.01 },
    });
    expect(mean).toEqual({
      name: 'mean', passed: true,
      expected: 'o/m at the last observation, mean across 4 runs = 0.3 ± 0.001', found: '0.3 (runs 0.1..0.5)',
    });
    expect(min).toMatchObject({ passed: true, found: '0.1 (runs 0.1..0.5)' });
    expect(max).toMatchObject({ passed: false, expected: 'o/m at the last observation, max across 4 runs <= 0.4', found: '0.5 (runs 0.1..0.5)' });
    expect(at).toMatchObject({ passed: true, expected: 'o/m at cycle 1, mean across 4 runs = 0.4' });
    expect(windowMax).toMatchObject({ passed: true, expected: 'o/m max over cycles 1..2, mean across 4 runs = 0.4 ± 1%' });
  });

  it('select the runs of a point, numbers compared as numbers', () => {
    const [small, large, every, none] = check({
      small: { ...base, point: { n: 100 }, window: { from: 1 }, value: 0.45 },
      large: { ...base, point: { n: 1000 }, value: 0.2 },
      every: { ...base, point: { n: 100 }, across: 'every', min: 0.4 },
      none: { ...base, point: { n: 50 }, min: 0 },
    });
    expect(small).toEqual({
      name: 'small', passed: true,
      expected: 'o/m mean over cycles 1..end, mean across 2 runs of n=100 = 0.45', found: '0.45 (runs 0.4..0.5)',
    });
    expect(large).toMatchObject({ passed: true, found: '0.2 (runs 0.1..0.3)' });
    expect(every).toEqual({
      name: 'every', passed: false, expected: 'o/m at the last observation, in each of 2 runs of n=100 >= 0.4',
      found: '0.3 in run 0 (n=100, replicate 0, seed 100); 1 of 2 runs outside (runs 0.3..0.5)',
    });
    expect(none).toMatchObject({ passed: false, expected: 'o/m at the last observation, mean across 0 runs of n=50 >= 0', found: 'no run of n=50 (the runs have n = 100, 1e3)' });
  });

  it('pass with every run within; fail on a metric with no rows, a missing cycle or NaN', () => {
    const [every] = check({ every: { ...base, across: 'every', max: 0.5 } });
    const [everyNaN, noRows, noCycle, nan] = check({
      everyNaN: { ...base, across: 'every', max: 0.5 },
      noRows: { observer: 'o', metric: 'x', min: 0 },
      noCycle: { ...base, at: 7, min: 0 },
      nan: { ...base, min: 0 },
    }, [...runs, { ...run(4, { n: '100' }, [1, NaN]), status: 'completed' }]);
    expect(every).toMatchObject({ passed: true, found: '4 runs within, 0.1..0.5' });
    expect(every.expected).toBe('o/m at the last observation, in each of 4 runs <= 0.5');
    expect(everyNaN).toMatchObject({ passed: false, found: 'NaN in run 4 (n=100, replicate 0, seed 104); 1 of 5 runs outside (runs 0.1..0.5, 1 NaN)' });
    expect(noRows).toMatchObject({ passed: false, found: 'no rows of o/x in run 0 (n=100, replicate 0, seed 100), and in 4 more of the 5 runs' });
    expect(noCycle).toMatchObject({ passed: false, found: 'no row of o/m at cycle 7 in run 0 (n=100, replicate 0, seed 100), and in 4 more of the 5 runs' });
    expect(nan).toMatchObject({ passed: false, found: 'NaN (runs 0.1..0.5, 1 NaN)' });
  });

  it('count cycles in periods for event-driven runs, and say when a run did not complete', () => {
    const timed = [run(0, {}, [5, 4, 3], 1000), { ...run(1, {}, []), status: 'failed' }];
    const [at] = check({ at: { ...base, at: 1, value: 4 } }, timed.slice(0, 1));
    expect(at).toMatchObject({ passed: true, found: '4 (1 run)' });
    const [failed] = check({ all: { ...base, min: 0 } }, timed);
    expect(failed.found).toBe('no rows of o/m in run 1 (replicate 1, seed 101) (status failed)');
  });
});

const scenario = `name: tiny
size: 100
cycles: 5
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
observers:
  overlay: { type: overlay }
`;

function experimentFile(text: string): string {
  const dir = tempDir('pcsim-cexpect-');
  writeFileSync(join(dir, 'tiny.yaml'), scenario);
  writeFileSync(join(dir, 'exp.yaml'), text);
  return join(dir, 'exp.yaml');
}

async function problem(text: string, quick = false): Promise<string> {
  try {
    await planCampaign(loadExperiment(experimentFile(text), { quick }));
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.replace(/^\/[^:]*\/exp\.yaml/, 'exp.yaml');
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

const experiment = `scenario: tiny.yaml
name: tiny-campaign
out: res
replicates: 3
grid:
  protocols.cyclon.cache: [6, 10]
expect:
  live:
    point: { protocols.cyclon.cache: 10 }
    observer: overlay
    metric: live
    value: 100
quick:
  replicates: 1
  set: { size: 50 }
  grid: { protocols.cyclon.cache: [8] }
  expect:
    live: { point: { protocols.cyclon.cache: 8 }, observer: overlay, metric: live, value: 50 }
    links: { observer: overlay, metric: dead_links, across: every, max: 0 }
`;

describe('campaign expectations in an experiment file', () => {
  it('the quick version replaces replicates, set, grid values and expectations by name; the plan records them', async () => {
    const full = await planCampaign(loadExperiment(experimentFile(experiment)));
    expect(full).toMatchObject({ quick: false, expect: { live: { point: { 'protocols.cyclon.cache': 10 }, value: 100 } } });
    expect(full.runs).toHaveLength(6);
    const file = experimentFile(experiment);
    const quick = loadExperiment(file, { quick: true });
    expect(quick).toMatchObject({ quick: true, out: 'res-quick', replicates: 1, set: { size: 50 } });
    expect(quick.expectPaths).toEqual({ live: ['quick', 'expect', 'live'], links: ['quick', 'expect', 'links'] });
    const plan = await planCampaign(quick);
    expect(plan.runs.map((r) => r.params)).toEqual([{ 'protocols.cyclon.cache': '8' }]);
    expect(Object.keys(plan.expect)).toEqual(['live', 'links']);
    expect(plan.expect.live.value).toBe(50);
    expect(plan.quick).toBe(true);
  });

  it('bad expectations are bad input naming the file, line and key', async () => {
    expect(await problem(experiment.replace('    value: 100', '    value: 100\n    tolerence: 1')))
      .toMatch(/^exp\.yaml:13: expect\.live\.tolerence: unknown key/);
    expect(await problem(experiment.replace('point: { protocols.cyclon.cache: 10 }', 'point: { size: 10 }')))
      .toBe('exp.yaml:9: expect.live.point.size: expected a swept parameter (a key of grid or runs: protocols.cyclon.cache), found size');
    expect(await problem(experiment.replace('observer: overlay', 'observer: overlays')))
      .toBe('exp.yaml:10: expect.live.observer: expected an observer of the scenario (overlay), found overlays');
    expect(await problem(experiment.replace('links: { observer: overlay', 'links: { observer: x'), true))
      .toBe('exp.yaml:19: quick.expect.links.observer: expected an observer of the scenario (overlay), found x');
    expect(await problem('scenario: tiny.yaml\n', true)).toMatch(/^exp\.yaml:1: expected a quick: block \(a smaller version of the campaign\) for --quick, found none$/);
  });
});

describe('checking a merged campaign folder', () => {
  it('reads campaign.json and metrics.csv, the rows matched to runs by parameters, replicate and seed', () => {
    const dir = tempDir('pcsim-cfolder-');
    const expectations = {
      big: { point: { k: 'a,b' }, observer: 'o', metric: 'm', value: 3 },
      all: { observer: 'o', metric: 'm', across: 'max', value: 3 },
    };
    const listed = (index: number, k: string, status = 'completed') => ({ index, params: { k }, replicate: 0, seed: 5, unit: 1, status, folder: null });
    writeFileSync(join(dir, 'campaign.json'), JSON.stringify({
      name: 'c', quick: false, parameters: ['k'], expect: expectations,
      runs: [listed(0, 'x'), listed(1, 'a,b'), listed(2, 'y', 'failed')],
    }));
    writeFileSync(join(dir, 'metrics.csv'), [
      'scenario,k,replicate,seed,cycle,observer,metric,value',
      's,x,0,5,0,o,m,1', 's,x,0,5,1,o,m,2', 's,x,0,5,1,o,other,9',
      's,"a,b",0,5,0,o,m,3', '',
    ].join('\n'));
    expect(isCampaignFolder(dir)).toBe(true);
    const [big, all] = checkMergedCampaign(dir);
    expect(big).toMatchObject({ passed: true, found: '3 (1 run)' });
    expect(all).toMatchObject({ passed: false, found: 'no rows of o/m in run 2 (k=y, replicate 0, seed 5) (status failed)' });

    writeFileSync(join(dir, 'metrics.csv'), 'scenario,j,replicate,seed,cycle,observer,metric,value\n');
    expect(() => checkMergedCampaign(dir)).toThrow(/metrics\.csv:1: expected the header of a merged campaign \(scenario,k,replicate,seed,cycle\|time,observer,metric,value\)/);
    const run = join(dir, 'runs', 'r');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'manifest.json'), '{}');
    expect(isCampaignFolder(run)).toBe(false);
  });
});
