#!/usr/bin/env node
// Cyclon speed and memory at scale (issue 2's targets): Cyclon c=20 l=5 with the
// overlay observer every 10 cycles. Each configuration runs in its own process so
// that its peak RSS is its own; times are medians over --runs runs.
//
//   npm run build && node experiments/perf/cyclon.mjs [--runs 3] [--sizes 1000000,10000000]
//
// Prints a table and appends one line per configuration to results/perf/cyclon.tsv.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, option, report } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

if (args[0] === '--child') {
  // One measured run: N, cycles. Prints a JSON line.
  const [size, cycles] = [Number(args[1]), Number(args[2])];
  const { loadScenario, Simulation } = await import('../../dist/index.js');
  const { scenario, registry } = await loadScenario(new URL('../../scenarios/cyclon.yaml', import.meta.url).pathname, {
    set: [`size=${size}`, `cycles=${cycles}`, 'protocols.cyclon.cache=20', 'protocols.cyclon.shuffle=5',
      'protocols.cyclon.init.topology=random', 'observers.overlay.every=10', 'observers.overlay.sample=1000', 'observers.overlay.sources=1'],
  });
  let t = performance.now();
  const simulation = new Simulation(scenario, registry);
  const initSeconds = (performance.now() - t) / 1000;
  const rows = [];
  const sink = (cycle, observer, metric, value) => rows.push(value);
  simulation.observe(sink);
  t = performance.now();
  while (!simulation.done) simulation.runCycle(sink);
  const cycleSeconds = (performance.now() - t) / 1000 / cycles;
  console.log(JSON.stringify({ size, cycles, initSeconds, cycleSeconds, peakRss: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

const runs = Number(option('runs', 3));
const configs = option('sizes', '1000000,10000000').split(',').map(Number)
  .map((size) => ({ size, cycles: size >= 1e7 ? 10 : 20, runs: size >= 1e7 ? 1 : runs }));

const rows = [];
for (const { size, cycles, runs: n } of configs) {
  const results = [];
  for (let r = 0; r < n; r++) {
    const child = spawnSync(process.execPath, ['--max-old-space-size=8192', here, '--child', String(size), String(cycles)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`run at N=${size} failed:\n${child.stderr}`);
    results.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
  const peakRss = Math.max(...results.map((x) => x.peakRss));
  rows.push({
    N: size, cycles, runs: n,
    's/cycle': median(results.map((x) => x.cycleSeconds)).toFixed(3),
    'init s': median(results.map((x) => x.initSeconds)).toFixed(1),
    'peak RSS MB': (peakRss / 2 ** 20).toFixed(0),
    'bytes/node': (peakRss / size).toFixed(0),
  });
}
report('cyclon', rows);
