import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMergedCampaign } from '../../src/campaign/check-campaign.js';
import { loadExperiment } from '../../src/campaign/experiment.js';
import { inPeriods, mergeCampaigns } from '../../src/campaign/merge.js';
import { planCampaign, writePlanFile, type Plan, type PlannedRun } from '../../src/campaign/plan.js';
import { tempDir } from '../helpers.js';

/*
 * The merged CSV's time column when a campaign sweeps the engine: one unit for every
 * row (cycles, an event run's time in periods), and expectations read as before.
 */

const scenario = `name: both
size: 100
cycles: 4
event: { period: 500 }
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
observers:
  overlay: { type: overlay, sample: 10, sources: 1 }
`;

async function campaign(engines: string, expect = ''): Promise<{ dir: string; plan: Plan }> {
  const dir = tempDir('pcsim-engines-');
  writeFileSync(join(dir, 'both.yaml'), scenario);
  writeFileSync(join(dir, 'exp.yaml'), `scenario: both.yaml\nreplicates: 2\ngrid:\n  engine: ${engines}\n${expect}`);
  const plan = await planCampaign(loadExperiment(join(dir, 'exp.yaml')));
  writePlanFile(dir, plan);
  return { dir, plan };
}

/** A completed run's folder as pcsim run leaves it: `cycle` rows 1..4, or `time` rows at times(k) ms. */
function fakeRun(out: string, run: PlannedRun, times: (k: number) => number = (k) => k * run.unit): void {
  const folder = join(out, run.folder);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ pcsim: '0.1.0', run_id: run.id, status: 'completed', error: null }));
  const column = run.engine === 'event' ? 'time' : 'cycle';
  const rows = [1, 2, 3, 4].map((k) => `both,${run.seed},${run.engine},${run.engine === 'event' ? times(k) : k},overlay,indegree_std,${k + run.replicate}`);
  writeFileSync(join(folder, 'metrics.csv'), `scenario,seed,engine,${column},observer,metric,value\n${rows.join('\n')}\n`);
}

const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');
const listedUnits = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { runs: { unit: number }[] }).runs.map((run) => run.unit);

describe('merging a campaign that sweeps the engine', () => {
  it('writes one cycle column, an event run\'s time in periods, and lists every run with unit 1', async () => {
    const { dir, plan } = await campaign('[cycle, event]');
    expect(plan.runs.map((run) => [run.engine, run.unit])).toEqual([['cycle', 1], ['cycle', 1], ['event', 500], ['event', 500]]);
    for (const run of plan.runs) fakeRun(dir, run);
    const merged = mergeCampaigns([dir], dir);
    const csv = lines(merged.csv);
    expect(csv[0]).toBe('scenario,engine,replicate,seed,cycle,observer,metric,value');
    expect(csv.slice(1, 3)).toEqual(['both,cycle,0,1,1,overlay,indegree_std,1', 'both,cycle,0,1,2,overlay,indegree_std,2']);
    expect(csv.slice(9, 13)).toEqual([1, 2, 3, 4].map((k) => `both,event,0,1,${k},overlay,indegree_std,${k}`));
    expect(listedUnits(merged.campaign)).toEqual([1, 1, 1, 1]);
  });

  it('keeps a time that is not a multiple of the period as a decimal', async () => {
    const { dir, plan } = await campaign('[cycle, event]');
    for (const run of plan.runs) fakeRun(dir, run, (k) => k * 500 + 125);
    const times = lines(mergeCampaigns([dir], dir).csv).filter((line) => line.includes(',event,')).map((line) => line.split(',')[4]);
    expect(times.slice(0, 4)).toEqual(['1.25', '2.25', '3.25', '4.25']);
    expect(inPeriods('1000', 300, 'f', 2)).toBe(String(1000 / 300));
    expect(() => inPeriods('soon', 500, 'runs/x/metrics.csv', 3)).toThrow('runs/x/metrics.csv:3: expected a time in ms, found "soon"');
  });

  it('decides the column from the plan: a merge before the cycle runs end already says cycle', async () => {
    const { dir, plan } = await campaign('[cycle, event]');
    for (const run of plan.runs.filter((r) => r.engine === 'event')) fakeRun(dir, run);
    const csv = lines(mergeCampaigns([dir], dir).csv);
    expect(csv[0]).toBe('scenario,engine,replicate,seed,cycle,observer,metric,value');
    expect(csv[1]).toBe('both,event,0,1,1,overlay,indegree_std,1');
  });

  it('leaves a campaign of one engine as it was: the event engine\'s time in ms, and its period as unit', async () => {
    const { dir, plan } = await campaign('[event]');
    for (const run of plan.runs) fakeRun(dir, run);
    const merged = mergeCampaigns([dir], dir);
    const csv = lines(merged.csv);
    expect(csv[0]).toBe('scenario,engine,replicate,seed,time,observer,metric,value');
    expect(csv[1]).toBe('both,event,0,1,500,overlay,indegree_std,1');
    expect(listedUnits(merged.campaign)).toEqual([500, 500]);
  });

  it('refuses a run whose column is not the campaign\'s, writing nothing', async () => {
    const { dir, plan } = await campaign('[event]');
    for (const run of plan.runs) fakeRun(dir, run);
    mergeCampaigns([dir], dir);
    const before = readFileSync(join(dir, 'metrics.csv'), 'utf8');
    const second = join(dir, plan.runs[1].folder, 'metrics.csv');
    writeFileSync(second, readFileSync(second, 'utf8').replace(',time,', ',cycle,'));
    expect(() => mergeCampaigns([dir], dir)).toThrow(/metrics\.csv: expected a time column, as the campaign's other runs have, found "cycle"$/);
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reads expectations\' at and window in cycles, periods for the event runs', async () => {
    const expect_ = `expect:
  event-at-2: { point: { engine: event }, observer: overlay, metric: indegree_std, at: 2, value: 2.5 }
  event-window: { point: { engine: event }, observer: overlay, metric: indegree_std, window: { from: 3, to: 4 }, of: max, across: max, value: 5 }
  cycle-window: { point: { engine: cycle }, observer: overlay, metric: indegree_std, window: { from: 1, to: 2 }, across: min, value: 1.5 }
`;
    const { dir, plan } = await campaign('[cycle, event]', expect_);
    for (const run of plan.runs) fakeRun(dir, run);
    mergeCampaigns([dir], dir);
    const outcomes = checkMergedCampaign(dir);
    expect(outcomes.map((o) => [o.name, o.passed, o.found])).toEqual([
      ['event-at-2', true, '2.5 (runs 2..3)'],
      ['event-window', true, '5 (runs 4..5)'],
      ['cycle-window', true, '1.5 (runs 1.5..2.5)'],
    ]);
  });
});
