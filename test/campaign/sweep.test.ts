import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

/*
 * `pcsim sweep` in real processes (the build in dist/, as the pcsim command runs it):
 * the runs of a campaign the same however they are spread, resumed after a kill, and
 * picked by the index a scheduler sets.
 */

const pcsimBin = join(import.meta.dirname, '../../bin/pcsim.js');

function pcsim(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [pcsimBin, ...args], { encoding: 'utf8', cwd: options.cwd, env: { ...process.env, ...options.env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scenario = `name: tiny
seed: 3
size: 200
cycles: 10
protocols:
  cyclon: { type: cyclon, cache: 10, shuffle: 4 }
observers:
  overlay: { type: overlay, sample: 20, sources: 1 }
`;

/** A folder with the tiny scenario and an experiment file over it; returns the folder. */
function campaignFolder(experiment: string, scenarioText = scenario): string {
  const dir = tempDir('pcsim-sweep-');
  writeFileSync(join(dir, 'tiny.yaml'), scenarioText);
  writeFileSync(join(dir, 'exp.yaml'), experiment);
  return dir;
}

const grid = `scenario: tiny.yaml
replicates: 5
grid:
  protocols.cyclon.cache: [6, 10, 14]
  protocols.cyclon.shuffle: [3, 5]
plots:
  - { metric: indegree_std, color: protocols.cyclon.cache, facet: protocols.cyclon.shuffle }
`;

const csv = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8');
const runFolders = (out: string) => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).sort() : []);

describe('pcsim sweep', () => {
  // 90 runs, each a process: about a minute on a quiet 2-core machine.
  it('gives the same merged CSV with --jobs 1, --jobs 2, and as 3 shards merged', { timeout: 900_000 }, () => {
    const dir = campaignFolder(grid);
    const one = pcsim(['sweep', 'exp.yaml', '--jobs', '1', '--out', 'one'], { cwd: dir });
    expect(one.stderr).toMatch(/sweep of 30 runs: 30 completed, 0 already done, 0 failed; 2970 rows of 30 runs merged into one\/metrics\.csv; plots one\/indegree_std\.svg\n$/);
    expect(one.code).toBe(0);
    expect(csv(join(dir, 'one')).split('\n')[0]).toBe('scenario,protocols.cyclon.cache,protocols.cyclon.shuffle,replicate,seed,cycle,observer,metric,value');
    expect(existsSync(join(dir, 'one', 'indegree_std.vl.json'))).toBe(true);

    const two = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--out', 'two'], { cwd: dir });
    expect(two.code).toBe(0);
    expect(csv(join(dir, 'two'))).toBe(csv(join(dir, 'one')));
    expect(readFileSync(join(dir, 'two', 'indegree_std.svg'), 'utf8')).toBe(readFileSync(join(dir, 'one', 'indegree_std.svg'), 'utf8'));

    for (const i of [2, 0, 1]) {
      const shard = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--shard', `${i}/3`, '--out', `shard${i}`], { cwd: dir });
      expect(shard.code).toBe(0);
      expect(shard.stderr).toContain(`shard ${i}/3: 10 of the 30 runs: 10 completed`);
      expect(runFolders(join(dir, `shard${i}`))).toHaveLength(10);
    }
    const merged = pcsim(['merge', 'shard0', 'shard1', 'shard2', '--out', 'merged'], { cwd: dir });
    expect(merged.stderr).toBe('pcsim: merged 30 runs (30 completed): 2970 rows in merged/metrics.csv; runs listed in merged/campaign.json\n');
    expect(csv(join(dir, 'merged'))).toBe(csv(join(dir, 'one')));
  });

  it('after a kill, completes only the missing runs; a new replicate adds only its runs, old ids and seeds unchanged', { timeout: 600_000 }, async () => {
    // Runs long enough to be caught in the middle: the killed sweep's run stops with a checkpoint and is resumed.
    const dir = campaignFolder('scenario: tiny.yaml\nreplicates: 3\ngrid:\n  protocols.cyclon.cache: [6, 10]\n', scenario.replace('size: 200', 'size: 3000').replace('cycles: 10', 'cycles: 150'));
    const out = join(dir, 'out');
    const sweep = spawn(process.execPath, [pcsimBin, 'sweep', 'exp.yaml', '--jobs', '1', '--out', 'out', '--checkpoint-every', '5'], { cwd: dir, stdio: 'ignore' });
    const completed = () => runFolders(out).filter((run) => {
      try {
        return (JSON.parse(readFileSync(join(out, 'runs', run, 'manifest.json'), 'utf8')) as { status: string }).status === 'completed';
      } catch {
        return false;
      }
    });
    const ended = new Promise((resolve) => sweep.on('exit', resolve));
    while (completed().length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    sweep.kill('SIGKILL');
    await ended;
    // The run the killed sweep left behind stops by itself (with a checkpoint), its folder lock released.
    while (runFolders(out).some((run) => existsSync(join(out, 'runs', run, 'pcsim.lock')))) await new Promise((resolve) => setTimeout(resolve, 100));
    const before = Object.fromEntries(completed().map((run) => [run, readFileSync(join(out, 'runs', run, 'manifest.json'), 'utf8')]));
    const done = Object.keys(before).length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(6);

    const again = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--out', 'out'], { cwd: dir });
    expect(again.stderr).toContain(`sweep of 6 runs: ${6 - done} completed, ${done} already done, 0 failed;`);
    expect(again.code).toBe(0);
    for (const [run, manifest] of Object.entries(before)) expect(readFileSync(join(out, 'runs', run, 'manifest.json'), 'utf8')).toBe(manifest);
    const resumed = runFolders(out).filter((run) => (JSON.parse(readFileSync(join(out, 'runs', run, 'manifest.json'), 'utf8')) as { resumes: unknown[] }).resumes.length > 0);
    expect(resumed.length).toBeLessThanOrEqual(1);

    const plan = readFileSync(join(out, 'plan.json'), 'utf8');
    writeFileSync(join(dir, 'exp.yaml'), 'scenario: tiny.yaml\nreplicates: 4\ngrid:\n  protocols.cyclon.cache: [6, 10]\n');
    const more = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--out', 'out'], { cwd: dir });
    expect(more.stderr).toContain('sweep of 8 runs: 2 completed, 6 already done, 0 failed;');
    type Run = { id: string; seed: number; replicate: number; params: Record<string, string> };
    const oldRuns = (JSON.parse(plan) as { runs: Run[] }).runs;
    const newRuns = (JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { runs: Run[] }).runs;
    for (const run of oldRuns) expect(newRuns.find((r) => r.id === run.id)).toMatchObject({ seed: run.seed, replicate: run.replicate, params: run.params });
    expect(newRuns.filter((run) => run.replicate === 3)).toHaveLength(2);
  });

  it('runs the run a scheduler index names, as --shard K/N does', { timeout: 300_000 }, () => {
    const dir = campaignFolder(grid.replace(/plots:[^]*$/, ''));
    const bySlurm = pcsim(['sweep', 'exp.yaml', '--out', 'slurm'], { cwd: dir, env: { SLURM_ARRAY_TASK_ID: '7', JOB_COMPLETION_INDEX: undefined } });
    expect(bySlurm.code).toBe(0);
    expect(bySlurm.stderr).toContain('run 7 (--index from SLURM_ARRAY_TASK_ID): 1 of the 30 runs: 1 completed');
    const byK8s = pcsim(['sweep', 'exp.yaml', '--out', 'k8s'], { cwd: dir, env: { JOB_COMPLETION_INDEX: '7', SLURM_ARRAY_TASK_ID: undefined } });
    expect(byK8s.stderr).toContain('run 7 (--index from JOB_COMPLETION_INDEX): 1 of the 30 runs: 1 completed');
    const byShard = pcsim(['sweep', 'exp.yaml', '--shard', '7/30', '--out', 'shard'], { cwd: dir, env: { SLURM_ARRAY_TASK_ID: '3' } });
    expect(byShard.code).toBe(0);
    expect(runFolders(join(dir, 'slurm'))).toHaveLength(1);
    expect(runFolders(join(dir, 'k8s'))).toEqual(runFolders(join(dir, 'slurm')));
    expect(runFolders(join(dir, 'shard'))).toEqual(runFolders(join(dir, 'slurm')));
    const listed = pcsim(['plan', 'exp.yaml', '--out', 'slurm'], { cwd: dir, env: { SLURM_ARRAY_TASK_ID: '7' } });
    expect(listed.stdout.trimEnd().split('\n')[1]).toMatch(new RegExp(`^7\\t[0-9a-f]{8}\\t6\\t5\\t2\\t\\d+\\tcompleted\\tslurm/runs/${runFolders(join(dir, 'slurm'))[0]}$`));
  });

  it('records a failing run and goes on, exit code 1', { timeout: 300_000 }, () => {
    const dir = campaignFolder('scenario: tiny.yaml\nreplicates: 2\ngrid:\n  size: [200, 2000000000]\n');
    const result = pcsim(['sweep', 'exp.yaml', '--jobs', '2', '--out', 'out'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/run 2 \([0-9a-f]{8}, size=2000000000, replicate 0, seed 3\) failed: --set: size: a run of 2,000,000,000 nodes needs about/);
    expect(result.stderr).toContain('sweep of 4 runs: 2 completed, 0 already done, 2 failed; 198 rows of 2 runs merged');
    const campaign = JSON.parse(readFileSync(join(dir, 'out', 'campaign.json'), 'utf8')) as { counts: Record<string, number> };
    expect(campaign.counts).toEqual({ completed: 2, failed: 2 });
  });
});

describe('campaign commands, on bad input', () => {
  /** Exit code 2 and exactly one line on stderr. */
  function expectOneLine(result: ReturnType<typeof pcsim>, line: string | RegExp) {
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr.trimEnd()).toMatch(typeof line === 'string' ? new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : line);
  }
  it('says what is wrong in one line, exit code 2', { timeout: 300_000 }, () => {
    const dir = campaignFolder('scenario: tiny.yaml\ngrid:\n  protocols.cyclon.cache: [6, eight]\n');
    expectOneLine(pcsim(['sweep', 'exp.yaml'], { cwd: dir }), 'pcsim: exp.yaml:3: grid.protocols.cyclon.cache: expected a number, found "eight"');
    expectOneLine(pcsim(['plan', 'nope.yaml'], { cwd: dir }), 'pcsim: nope.yaml: file not found');
    writeFileSync(join(dir, 'lost.yaml'), 'name: lost\nscenario: gone.yaml\n');
    expectOneLine(pcsim(['plan', 'lost.yaml'], { cwd: dir }), `pcsim: lost.yaml:2: scenario: file not found: ${join(dir, 'gone.yaml')}`);
    expectOneLine(pcsim(['sweep', 'exp.yaml', '--jobs', '0'], { cwd: dir }), 'pcsim: --jobs: expected a whole number of runs at once, at least 1, found 0');
    expectOneLine(pcsim(['sweep', 'exp.yaml', '--shard', '1'], { cwd: dir }), 'pcsim: --shard: expected i/n with 0 <= i < n (say 0/4), found "1"');
    expectOneLine(pcsim(['sweep'], { cwd: dir }), 'pcsim: sweep: name an experiment file (pcsim sweep <experiment>)');
    expectOneLine(pcsim(['merge'], { cwd: dir }), 'pcsim: merge: name the folder of a campaign, or several (pcsim merge <dir...>)');
    expectOneLine(pcsim(['merge', '.'], { cwd: dir }), 'pcsim: .: holds no plan.json: expected the folder of a campaign (pcsim sweep writes one)');
    expectOneLine(pcsim(['plot', 'x.csv'], { cwd: dir }), 'pcsim: --metric: expected the metric to plot (--metric M, or observer.metric)');
    writeFileSync(join(dir, 'm.csv'), 'scenario,cycle,observer,metric,value\ns,1,o,m,1\n');
    expectOneLine(pcsim(['plot', 'm.csv', '--metric', 'm', '--log', 'z'], { cwd: dir }), 'pcsim: --log: expected the axes to draw on a log scale (x, y, xy), found "z"');
    expectOneLine(pcsim(['sweep', 'exp.yaml', '--jbos', '2'], { cwd: dir }), 'pcsim: unknown option --jbos (did you mean --jobs?)');
    expectOneLine(pcsim(['sweep', 'exp.yaml'], { cwd: dir, env: { SLURM_ARRAY_TASK_ID: 'x' } }), /^pcsim: exp\.yaml:3: grid\.protocols\.cyclon\.cache: |^pcsim: SLURM_ARRAY_TASK_ID: /);
  });
});
