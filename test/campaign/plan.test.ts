import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import { loadExperiment } from '../../src/campaign/experiment.js';
import { planCampaign, replicateSeed, selectionFrom, selectRuns } from '../../src/campaign/plan.js';
import { holds, parseWhere } from '../../src/campaign/where.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { runId } from '../../src/output/run-id.js';
import { loadScenario } from '../../src/scenario/load.js';
import { tempDir } from '../helpers.js';

const scenario = `name: tiny
seed: 7
size: 200
cycles: 10
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
observers:
  overlay: { type: overlay, sample: 20, sources: 1 }
`;

/** An experiment file beside the tiny scenario; returns its path. */
function experimentFile(text: string): string {
  const dir = tempDir('pcsim-plan-');
  writeFileSync(join(dir, 'tiny.yaml'), scenario);
  writeFileSync(join(dir, 'exp.yaml'), text);
  return join(dir, 'exp.yaml');
}

const grid = `scenario: tiny.yaml
replicates: 5
grid:
  protocols.cyclon.cache: [6, 10, 14]
  protocols.cyclon.shuffle: [3, 5]
`;

async function plan(text: string, set?: string[]) {
  return planCampaign(loadExperiment(experimentFile(text)), { set });
}

function problem(text: string): string {
  try {
    loadExperiment(experimentFile(text));
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.replace(/^.*exp\.yaml/, 'exp.yaml');
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

async function planProblem(text: string, set?: string[]): Promise<string> {
  try {
    await plan(text, set);
  } catch (error) {
    if (error instanceof ScenarioError) return error.message.replace(/^\/[^:]*\/(exp|tiny)\.yaml/, '$1.yaml');
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

describe('campaign plans', () => {
  it('expands the grid, first key outermost, each point once per replicate', async () => {
    const { runs, parameters } = await plan(grid);
    expect(parameters).toEqual(['protocols.cyclon.cache', 'protocols.cyclon.shuffle']);
    expect(runs).toHaveLength(30);
    expect(runs.slice(0, 6).map((run) => [run.params['protocols.cyclon.cache'], run.params['protocols.cyclon.shuffle'], run.replicate]))
      .toEqual([['6', '3', 0], ['6', '3', 1], ['6', '3', 2], ['6', '3', 3], ['6', '3', 4], ['6', '5', 0]]);
    expect(runs.map((run) => run.index)).toEqual([...Array(30).keys()]);
    expect(new Set(runs.map((run) => run.id)).size).toBe(30);
  });

  it('gives every point the same seeds: replicate 0 the scenario seed, the others derived from (seed, r) alone', async () => {
    const { runs } = await plan(grid);
    const seeds = [0, 1, 2, 3, 4].map((r) => replicateSeed(7, r));
    expect(seeds[0]).toBe(7);
    expect(new Set(seeds).size).toBe(5);
    for (const run of runs) expect(run.seed).toBe(seeds[run.replicate]);
    expect(replicateSeed(7, 3)).toBe(replicateSeed(7, 3));
    expect(replicateSeed(8, 3)).not.toBe(replicateSeed(7, 3));
  });

  it("gives each run pcsim run's own run id and folder for the same --set and --seed", async () => {
    const { runs, scenario: file } = await plan(grid);
    for (const run of [runs[0], runs[13], runs[29]]) {
      const loaded = await loadScenario(file, { seed: run.seed, set: run.set, registry: builtinRegistry() });
      expect(runId(loaded.scenario)).toBe(run.id);
      expect(run.folder).toBe(join('runs', `tiny-seed${run.seed}-${run.id}`));
    }
  });

  it('keeps every id and seed when replicates or grid values are added', async () => {
    const before = await plan(grid);
    const after = await plan(grid.replace('replicates: 5', 'replicates: 7').replace('[6, 10, 14]', '[6, 8, 10, 14]'));
    expect(after.runs).toHaveLength(56);
    const byId = new Map(after.runs.map((run) => [run.id, run]));
    for (const run of before.runs) {
      expect(byId.get(run.id)).toMatchObject({ seed: run.seed, replicate: run.replicate, params: run.params });
    }
  });

  it('adds explicit runs, drops points where rules out, and makes a point that resolves like another one run', async () => {
    const { runs, parameters } = await plan(`${grid}runs:
  - { protocols.cyclon.cache: 20, protocols.cyclon.init.topology: ring }
  - { protocols.cyclon.cache: 6, protocols.cyclon.shuffle: 3 }
where:
  - protocols.cyclon.shuffle < protocols.cyclon.cache - 0 or protocols.cyclon.cache == 20
  - not (protocols.cyclon.cache == 10 and protocols.cyclon.shuffle == 5)
`.replace(' - 0', ''));
    expect(parameters).toEqual(['protocols.cyclon.cache', 'protocols.cyclon.shuffle', 'protocols.cyclon.init.topology']);
    // 6 grid points - (10, 5) + the ring point; the last duplicates (6, 3).
    expect(runs).toHaveLength(30);
    const ring = runs.filter((run) => run.params['protocols.cyclon.init.topology'] === 'ring');
    expect(ring).toHaveLength(5);
    expect(ring[0].params).toEqual({ 'protocols.cyclon.cache': '20', 'protocols.cyclon.shuffle': '4', 'protocols.cyclon.init.topology': 'ring' });
    expect(runs[0].params['protocols.cyclon.init.topology']).toBe('random');
  });

  it('applies the file set and the sweep --set to every run, the --set last', async () => {
    const { runs } = await plan(`${grid}set: { cycles: 4 }\n`, ['size=150']);
    expect(runs[0].set).toEqual(['cycles=4', 'protocols.cyclon.cache=6', 'protocols.cyclon.shuffle=3', 'size=150']);
    expect(runs[0].cycles).toBe(4);
  });

  it('selects a shard, an index, or the index a scheduler sets, the same runs each way', async () => {
    const p = await plan(grid);
    const shard = selectRuns(p, selectionFrom({ shard: '1/3' }));
    expect(shard.map((run) => run.index)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    const union = [0, 1, 2].flatMap((i) => selectRuns(p, selectionFrom({ shard: `${i}/3` })).map((run) => run.index)).sort((a, b) => a - b);
    expect(union).toEqual([...Array(30).keys()]);
    for (const k of [0, 17, 29]) {
      const byShard = selectRuns(p, selectionFrom({ shard: `${k}/30` }));
      expect(selectRuns(p, selectionFrom({ index: k }))).toEqual(byShard);
      expect(selectRuns(p, selectionFrom({}, { SLURM_ARRAY_TASK_ID: String(k) }))).toEqual(byShard);
      expect(selectRuns(p, selectionFrom({}, { JOB_COMPLETION_INDEX: String(k) }))).toEqual(byShard);
    }
    // An explicit selection wins over the scheduler's variable.
    expect(selectRuns(p, selectionFrom({ shard: '0/1' }, { SLURM_ARRAY_TASK_ID: '3' }))).toHaveLength(30);
    expect(() => selectRuns(p, selectionFrom({}, { SLURM_ARRAY_TASK_ID: '30' })))
      .toThrow('SLURM_ARRAY_TASK_ID: expected a run index from 0 to 29 (the plan has 30 runs), found 30');
    expect(() => selectionFrom({}, { JOB_COMPLETION_INDEX: 'x' })).toThrow('JOB_COMPLETION_INDEX: expected a run index (0, 1, 2...), found "x"');
    expect(() => selectionFrom({ shard: '3/3' })).toThrow('--shard: expected i/n with 0 <= i < n (say 0/4), found "3/3"');
  });
});

describe('experiment files, on bad input', () => {
  it('names the file, line and key path of each problem in one line', () => {
    expect(problem('scenario: tiny.yaml\nreplicates: two\n')).toBe('exp.yaml:2: replicates: expected a number, found "two"');
    expect(problem('scenario: tiny.yaml\nreplicate: 2\n')).toMatch(/^exp\.yaml:2: replicate: unknown key \(expected one of: .*\); did you mean replicates\?$/);
    expect(problem('replicates: 2\n')).toBe('exp.yaml:1: scenario: expected a string, found nothing (the key is missing)');
    expect(problem('scenario: tiny.yaml\ngrid:\n  size: 5\n')).toBe('exp.yaml:3: grid.size: expected a list, found 5');
    expect(problem('scenario: tiny.yaml\ngrid:\n  size: []\n')).toBe('exp.yaml:3: grid.size: expected a list with at least >= 1, found a list of 0');
    expect(problem('scenario: tiny.yaml\nwhere: size <<= 3\n')).toMatch(/^exp\.yaml:2: where: expected /);
    expect(problem('scenario: tiny.yaml\ngrid: { a..b: [1] }\n')).toBe('exp.yaml:2: grid.a..b: expected a key path of names separated by single dots');
    expect(problem('- 1\n')).toBe('exp.yaml:1: expected a mapping of experiment keys (scenario, grid, replicates...), found a list of 1');
    expect(problem('scenario: [\n')).toMatch(/^exp\.yaml:\d: YAML syntax error/);
  });

  it('locates a bad value of a point where the experiment file writes it', async () => {
    expect(await planProblem(`${grid}  protocols.cyclon.init.topology: [random, rong]\n`))
      .toMatch(/^exp\.yaml:6: grid\.protocols\.cyclon\.init\.topology: expected "random" or "ring" or "star", found "rong"/);
    expect(await planProblem(`${grid}runs:\n  - { protocols.cyclon.shufle: 3 }\n`)).toMatch(/^exp\.yaml:7: runs\.0\.protocols\.cyclon\.shufle: unknown key/);
    expect(await planProblem(`${grid}set:\n  size: -4\n`)).toBe('exp.yaml:7: set.size: expected a value > 0, found -4');
    expect(await planProblem(grid, ['size=x'])).toBe('--set: size: expected a number, found "x"');
    expect(await planProblem('scenario: tiny.yaml\ngrid:\n  size: [200, 9]\n'))
      .toMatch(/^tiny\.yaml:6: protocols\.cyclon\.cache: expected a cache smaller than the network \(size 9\), found 10 \(in the point size=9 of .*exp\.yaml\)$/);
    expect(await planProblem(`${grid}where: protocols.cyclon.cach < 3\n`)).toMatch(/^exp\.yaml:6: where: protocols\.cyclon\.cach: no such key in the point or the scenario/);
  });
});

describe('where conditions', () => {
  const lookup = (values: Record<string, unknown>) => (path: string) => values[path];
  it('compare key paths with values and each other, joined by and, or, not', () => {
    const at = lookup({ a: 3, 'b.c': 5, name: 'x' });
    expect(holds(parseWhere('a < b.c'), at)).toBe(true);
    expect(holds(parseWhere('a >= 3 and b.c != 5'), at)).toBe(false);
    expect(holds(parseWhere('a > 4 or name == "x"'), at)).toBe(true);
    expect(holds(parseWhere("not (name == 'x')"), at)).toBe(false);
    expect(holds(parseWhere('a == 3.0 and b.c <= -1e3 or true == true'), at)).toBe(true);
  });
  it('refuse what is not a condition', () => {
    expect(() => parseWhere('a <')).toThrow('expected a key path or a value, found the end in "a <"');
    expect(() => parseWhere('a b')).toThrow('expected a comparison');
    expect(() => parseWhere('(a < 1')).toThrow('expected ")"');
    expect(() => holds(parseWhere('name < 3'), lookup({ name: 'x' }))).toThrow('< compares numbers, found "x" and 3');
  });
});
