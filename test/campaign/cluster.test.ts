import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../helpers.js';

/*
 * The cluster examples in experiments/sweeps/cluster/ (shown in the README), run as far
 * as this machine allows: each scheduler's task is simulated by the variable it sets
 * (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX), a `pcsim` on the PATH runs this
 * checkout's build, the experiment is swapped for a tiny one, and GNU parallel, when
 * not installed, for xargs -P.
 */

const root = join(import.meta.dirname, '../..');
const examples = join(root, 'experiments/sweeps/cluster');
const realExperiment = 'experiments/sweeps/averaging-cache.yaml';

/** A folder with a tiny campaign (4 runs) and `pcsim` (and, if needed, `parallel`) on a PATH of its own. */
function setUp(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir('pcsim-cluster-');
  writeFileSync(join(dir, 'tiny.yaml'), 'name: tiny\nsize: 200\ncycles: 5\nprotocols:\n  cyclon: { type: cyclon, cache: 10, shuffle: 4 }\nobservers:\n  overlay: { type: overlay, sample: 20 }\n');
  writeFileSync(join(dir, 'exp.yaml'), 'scenario: tiny.yaml\nname: tiny-campaign\nreplicates: 2\ngrid:\n  protocols.cyclon.cache: [6, 10]\n');
  const shim = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  shim('pcsim', `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, 'bin/pcsim.js'))} "$@"`);
  // GNU parallel's "-j N command... {}", one line of input per job.
  const hasParallel = spawnSync('bash', ['-c', 'command -v parallel']).status === 0;
  if (!hasParallel) shim('parallel', 'jobs=$2; shift 2; exec xargs -P "$jobs" -I{} "$@"');
  const env = { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH}`, SLURM_ARRAY_TASK_ID: undefined, JOB_COMPLETION_INDEX: undefined };
  return { dir, env };
}

const bash = (script: string, dir: string, env: NodeJS.ProcessEnv) => spawnSync('bash', ['-c', script], { cwd: dir, env, encoding: 'utf8' });
const campaignOf = (out: string) => JSON.parse(readFileSync(join(out, 'campaign.json'), 'utf8')) as { counts: Record<string, number> };

describe('the cluster examples', () => {
  it('Slurm: the array sized by pcsim plan --count, one run per task, the last task merging', { timeout: 300_000 }, () => {
    const { dir, env } = setUp();
    const script = readFileSync(join(examples, 'slurm.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --signal=B:TERM@\d+$/m);
    const submit = /^#\s+sbatch --array=0-(\$\(\( .* - 1 \)\)) \\$/m.exec(script);
    expect(submit).not.toBeNull();
    const last = bash(`echo ${submit![1].replace(realExperiment, 'exp.yaml')}`, dir, env);
    expect(last.stdout).toBe('3\n');
    const body = script.replaceAll(realExperiment, 'exp.yaml');
    for (const task of [2, 0, 3, 1]) {
      const result = bash(body, dir, { ...env, SLURM_ARRAY_TASK_ID: String(task) });
      expect(result.status).toBe(0);
      expect(result.stderr).toContain(`run ${task} (--index from SLURM_ARRAY_TASK_ID): 1 of the 4 runs: 1 completed`);
    }
    expect(campaignOf(join(dir, 'results/tiny-campaign')).counts).toEqual({ completed: 4 });
    // A task run again finds its run done.
    expect(bash(body, dir, { ...env, SLURM_ARRAY_TASK_ID: '1' }).stderr).toContain('0 completed, 1 already done');
  });

  it('Kubernetes: an Indexed Job of as many completions as runs, each pod one run', { timeout: 300_000 }, () => {
    const { dir, env } = setUp();
    const job = parse(readFileSync(join(examples, 'indexed-job.yaml'), 'utf8')) as {
      kind: string; spec: { completionMode: string; completions: number; template: { spec: { restartPolicy: string; containers: { command: string[] }[] } } };
    };
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const count = spawnSync(process.execPath, [join(root, 'bin/pcsim.js'), 'plan', realExperiment, '--count'], { cwd: root, encoding: 'utf8' });
    expect(Number(count.stdout)).toBe(job.spec.completions);
    const [command, ...args] = job.spec.template.spec.containers[0].command;
    expect(command).toBe('pcsim');
    const out = join(dir, 'campaign');
    const local = args.map((arg) => (arg === realExperiment ? 'exp.yaml' : arg.startsWith('/campaigns/') ? out : arg));
    for (const index of [3, 1, 0, 2]) {
      const result = spawnSync(join(dir, 'pcsim'), local, { cwd: dir, env: { ...env, JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8' });
      expect(result.status).toBe(0);
      expect(result.stderr).toContain(`run ${index} (--index from JOB_COMPLETION_INDEX): 1 of the 4 runs: 1 completed`);
    }
    expect(campaignOf(out).counts).toEqual({ completed: 4 });
  });

  it('GNU parallel: one run per job, the same merged CSV as a plain sweep', { timeout: 300_000 }, () => {
    const { dir, env } = setUp();
    const script = readFileSync(join(examples, 'parallel.sh'), 'utf8').replace(`experiment=${realExperiment}`, 'experiment=exp.yaml');
    const result = bash(script, dir, env);
    expect(result.status).toBe(0);
    expect(campaignOf(join(dir, 'results/tiny-campaign')).counts).toEqual({ completed: 4 });
    expect(bash('pcsim sweep exp.yaml --out plain', dir, env).status).toBe(0);
    expect(readFileSync(join(dir, 'results/tiny-campaign/metrics.csv'), 'utf8')).toBe(readFileSync(join(dir, 'plain/metrics.csv'), 'utf8'));
    expect(existsSync(join(dir, 'results/tiny-campaign/plan.json'))).toBe(true);
  });
});
