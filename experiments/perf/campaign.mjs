#!/usr/bin/env node
// A campaign on all cores: the same sweep of R runs (replicates of scenarios/cyclon.yaml,
// 10^5 nodes by default) made with --jobs 1, then with --jobs J, timed from the
// command's start to its end (planning, every run's process, the merge); the two
// merged CSVs must be identical. The target on a 2-core machine: 8 runs of 10^5 nodes
// at least 1.7 times faster with --jobs 2.
//
//   npm run build && node experiments/perf/campaign.mjs [--runs 8] [--size 100000] [--cycles 50] [--jobs 2] [--dir FOLDER]
//
// Prints a table and appends a line to results/perf/campaign.tsv.
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, report } from './report.mjs';

const runs = Number(option('runs', '8'));
const size = Number(option('size', '100000'));
const cycles = Number(option('cycles', '50'));
const jobs = Number(option('jobs', '2'));
const pcsim = fileURLToPath(new URL('../../bin/pcsim.js', import.meta.url));
const scenario = fileURLToPath(new URL('../../scenarios/cyclon.yaml', import.meta.url));

const dir = mkdtempSync(join(option('dir', tmpdir()), 'pcsim-campaign-'));
try {
  const experiment = join(dir, 'campaign.yaml');
  writeFileSync(experiment, [
    `scenario: ${JSON.stringify(scenario)}`,
    `replicates: ${runs}`,
    `set: { size: ${size}, cycles: ${cycles} }`,
    '',
  ].join('\n'));
  const sweep = (j) => {
    const out = join(dir, `jobs${j}`);
    const started = performance.now();
    const result = spawnSync(process.execPath, [pcsim, 'sweep', experiment, '--jobs', String(j), '--out', out], { encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`--jobs ${j}: exit ${result.status}: ${result.stderr}`);
    return { seconds, csv: readFileSync(join(out, 'metrics.csv'), 'utf8') };
  };
  const load = loadavg()[0];
  const one = sweep(1);
  const many = sweep(jobs);
  if (one.csv !== many.csv) throw new Error(`the merged CSVs of --jobs 1 and --jobs ${jobs} differ`);
  report('campaign', [{
    runs, nodes: size, cycles, cores: availableParallelism(), jobs,
    'jobs 1 s': one.seconds.toFixed(1), 'jobs J s': many.seconds.toFixed(1), speedup: (one.seconds / many.seconds).toFixed(2),
    'load before': load.toFixed(2),
  }]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
