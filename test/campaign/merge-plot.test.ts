import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../../src/campaign/experiment.js';
import { mergeCampaigns } from '../../src/campaign/merge.js';
import { planCampaign, writePlanFile, type Plan, type PlannedRun } from '../../src/campaign/plan.js';
import { meanInterval, plotMetric } from '../../src/campaign/plot.js';
import { tempDir } from '../helpers.js';

const scenario = `name: tiny
size: 100
cycles: 3
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
`;

async function campaign(): Promise<{ dir: string; plan: Plan }> {
  const dir = tempDir('pcsim-merge-');
  writeFileSync(join(dir, 'tiny.yaml'), scenario);
  writeFileSync(join(dir, 'exp.yaml'), 'scenario: tiny.yaml\nreplicates: 3\ngrid:\n  protocols.cyclon.cache: [5, 10]\n');
  return { dir, plan: await planCampaign(loadExperiment(join(dir, 'exp.yaml'))) };
}

/** A run folder as pcsim run leaves it: a manifest and metrics.csv with one metric per cycle. */
function fakeRun(out: string, run: PlannedRun, status: string, value: (cycle: number) => number): void {
  const dir = join(out, run.folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ pcsim: '0.1.0', run_id: run.id, status, error: status === 'failed' ? 'boom' : null }));
  const rows = [0, 1, 2].map((cycle) => `tiny,${run.seed},${run.params['protocols.cyclon.cache']},${cycle},overlay,indegree_std,${value(cycle)}`);
  writeFileSync(join(dir, 'metrics.csv'), `scenario,seed,protocols.cyclon.cache,cycle,observer,metric,value\n${rows.join('\n')}\n`);
}

describe('pcsim merge', () => {
  it('writes the completed runs in plan order, with parameter, replicate and seed columns, whatever folder holds them', async () => {
    const { dir, plan } = await campaign();
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    writePlanFile(a, plan);
    writePlanFile(b, plan);
    // Shards in two folders, in reverse order; one run failed, one never ran.
    for (const run of [...plan.runs].reverse()) {
      if (run.index === 4) continue;
      fakeRun(run.index % 2 ? a : b, run, run.index === 1 ? 'failed' : 'completed', (cycle) => run.index * 10 + cycle);
    }
    const merged = mergeCampaigns([a, b], join(dir, 'merged'));
    const lines = readFileSync(merged.csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('scenario,protocols.cyclon.cache,replicate,seed,cycle,observer,metric,value');
    expect(lines.slice(1, 4)).toEqual([0, 1, 2].map((cycle) => `tiny,5,0,1,${cycle},overlay,indegree_std,${cycle}`));
    const values = lines.slice(1).map((line) => Number(line.split(',').at(-1)));
    expect(values).toEqual([0, 2, 3, 5].flatMap((i) => [i * 10, i * 10 + 1, i * 10 + 2]));
    expect(merged.runs.map((run) => run.status)).toEqual(['completed', 'failed', 'completed', 'completed', 'missing', 'completed']);
    const listed = JSON.parse(readFileSync(merged.campaign, 'utf8')) as { counts: Record<string, number>; runs: { folder: string | null; error: string | null }[] };
    expect(listed.counts).toEqual({ completed: 4, failed: 1, missing: 1 });
    expect(listed.runs[1]).toMatchObject({ folder: join('..', 'a', plan.runs[1].folder), error: 'boom' });
    expect(listed.runs[4].folder).toBeNull();
    // The same, merged again from the folders in the other order.
    expect(readFileSync(mergeCampaigns([b, a], join(dir, 'again')).csv, 'utf8')).toBe(readFileSync(merged.csv, 'utf8'));
  });

  it('refuses a folder that is not a campaign', () => {
    expect(() => mergeCampaigns([tempDir()], tempDir())).toThrow(/holds no plan\.json: expected the folder of a campaign/);
  });
});

describe('pcsim plot', () => {
  it('computes the mean and the t-based 95% interval', () => {
    expect(meanInterval([1, 2, 3])).toMatchObject({ mean: 2, n: 3 });
    expect(meanInterval([1, 2, 3]).hi).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 6);
    expect(meanInterval([4])).toEqual({ mean: 4, lo: 4, hi: 4, n: 1 });
  });

  it('draws the same SVG twice, and saves the vega-lite spec beside it', async () => {
    const { dir, plan } = await campaign();
    const out = join(dir, 'c');
    writePlanFile(out, plan);
    for (const run of plan.runs) fakeRun(out, run, 'completed', (cycle) => cycle + run.replicate * 0.5 + Number(run.params['protocols.cyclon.cache']));
    mergeCampaigns([out], out);
    const first = await plotMetric(out, { metric: 'indegree_std', color: 'protocols.cyclon.cache' });
    const svg = readFileSync(first.svg, 'utf8');
    expect(first.svg).toBe(join(out, 'indegree_std.svg'));
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const spec = JSON.parse(readFileSync(first.spec, 'utf8')) as { data: { values: Record<string, number>[] }; layer: unknown[] };
    expect(first.spec).toBe(join(out, 'indegree_std.vl.json'));
    expect(spec.layer).toHaveLength(2);
    // Cycle 1 at cache 5: replicates 0, 0.5 and 1 above 6.
    expect(spec.data.values.find((v) => v.x === 1 && v.color === 5)).toMatchObject({ mean: 6.5, n: 3 });
    await plotMetric(out, { metric: 'indegree_std', color: 'protocols.cyclon.cache' });
    expect(readFileSync(first.svg, 'utf8')).toBe(svg);
    // Against a parameter: each run is the mean of its cycles, then the mean over replicates.
    const byCache = await plotMetric(join(out, 'metrics.csv'), { metric: 'overlay.indegree_std', x: 'protocols.cyclon.cache', out: join(out, 'by-cache.svg') });
    const values = (JSON.parse(readFileSync(byCache.spec, 'utf8')) as { data: { values: Record<string, number>[] } }).data.values;
    expect(values.map((v) => [v.x, v.mean])).toEqual([[5, 6.5], [10, 11.5]]);
  });

  it('names a metric or column that is not there, in one line', async () => {
    const { dir, plan } = await campaign();
    const out = join(dir, 'c');
    writePlanFile(out, plan);
    for (const run of plan.runs) fakeRun(out, run, 'completed', () => 1);
    mergeCampaigns([out], out);
    await expect(plotMetric(out, { metric: 'indegree_sd' })).rejects.toThrow('--metric: expected a metric of the CSV (indegree_std), found "indegree_sd"; did you mean indegree_std?');
    await expect(plotMetric(out, { metric: 'indegree_std', color: 'cache' })).rejects.toThrow(/^--color: expected a column of .*metrics\.csv \(scenario, protocols\.cyclon\.cache, replicate, seed, cycle\), found "cache"/);
    await expect(plotMetric(join(dir, 'nope.csv'), { metric: 'x' })).rejects.toThrow(/nope\.csv: file not found$/);
  });
});
