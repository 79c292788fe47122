#!/usr/bin/env node
// The P2P cloud scenario at scale (issue 12's target: at most 1.5 s per cycle at 10^6
// nodes): scenarios/cloud.yaml with its size, and its customers' request sizes, scaled
// by the same factor, so the cloud is as busy as at 10^5 (see cloud-scenario.mjs). Each
// configuration runs in its own process so that its peak RSS is its own; times are
// medians over --runs runs. --dist: the build to measure (default dist/).
//
//   npm run build && node experiments/perf/cloud.mjs [--runs 3] [--sizes 100000,1000000] [--cycles 30] [--dist dist]
//
// Prints a table and appends one line per configuration to results/perf/cloud.tsv, with
// the load average (1 minute) before and after.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadCloud } from './cloud-scenario.mjs';
import { median, option, report } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

if (args[0] === '--child') {
  // One measured run: build folder, N, cycles. Prints a JSON line.
  const [dist, size, cycles] = [args[1], Number(args[2]), Number(args[3])];
  const { pcsim, scenario, registry } = await loadCloud(dist, size, cycles);
  let t = performance.now();
  const simulation = new pcsim.Simulation(scenario, registry);
  const initSeconds = (performance.now() - t) / 1000;
  const sink = () => {};
  simulation.observe(sink);
  t = performance.now();
  while (!simulation.done) simulation.runCycle(sink);
  const cycleSeconds = (performance.now() - t) / 1000 / cycles;
  console.log(JSON.stringify({ size, cycles, initSeconds, cycleSeconds, peakRss: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

const runs = Number(option('runs', 3));
const cycles = Number(option('cycles', 30));
const configs = option('sizes', '100000,1000000').split(',').map(Number);
const dist = fileURLToPath(new URL(`../../${option('dist', 'dist')}/`, import.meta.url));

const rows = [];
for (const size of configs) {
  const results = [];
  const loadBefore = loadavg()[0];
  for (let r = 0; r < runs; r++) {
    const child = spawnSync(process.execPath, ['--max-old-space-size=8192', here, '--child', dist, String(size), String(cycles)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`run at N=${size} failed:\n${child.stderr}`);
    results.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
  const peakRss = Math.max(...results.map((x) => x.peakRss));
  rows.push({
    N: size, cycles, runs,
    's/cycle': median(results.map((x) => x.cycleSeconds)).toFixed(3),
    'init s': median(results.map((x) => x.initSeconds)).toFixed(1),
    'peak RSS MB': (peakRss / 2 ** 20).toFixed(0),
    'bytes/node': (peakRss / size).toFixed(0),
    load: `${loadBefore.toFixed(1)}-${loadavg()[0].toFixed(1)}`,
    build: option('dist', 'dist'),
  });
}
report('cloud', rows);
