#!/usr/bin/env node
// Event-driven averaging over Cyclon (issue 4's target): events per second, peak RSS
// and bytes per node at 10^6 nodes (c = 20, l = 5, period 1 s, latency 10-100 ms).
// Each size runs in its own process so its peak RSS is its own.
//
//   npm run build && node experiments/perf/event.mjs [--sizes 1000000] [--periods 5] [--runs 1]
//
// Prints a table and appends one line per run to results/perf/event.tsv; with several
// runs (each its own process), also each size's median and range: timings on this
// shared machine drift by ±15% or more between processes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, option, report } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

if (args[0] === '--child') {
  const [size, periods] = [Number(args[1]), Number(args[2])];
  const { loadScenario, Simulation } = await import('../../dist/index.js');
  const { scenario, registry } = await loadScenario(new URL('../../scenarios/event-aggregation.yaml', import.meta.url).pathname, {
    set: [`size=${size}`, `cycles=${periods + 2}`, 'transport.latency={model: uniform, min: 10, max: 100}', 'observers={}'],
  });
  let t = performance.now();
  const simulation = new Simulation(scenario, registry);
  const initSeconds = (performance.now() - t) / 1000;
  const sink = () => {};
  // Two warm-up periods (the JIT, the first timers' random phases), then the measured ones.
  simulation.advance(sink);
  simulation.advance(sink);
  const before = simulation.eventLoop.processed;
  t = performance.now();
  while (!simulation.done) simulation.advance(sink);
  const seconds = (performance.now() - t) / 1000;
  const events = simulation.eventLoop.processed - before;
  console.log(JSON.stringify({ size, periods, initSeconds, seconds, events, peakRss: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

const periods = Number(option('periods', 5));
const runs = Number(option('runs', 1));
const sizes = option('sizes', '1000000').split(',').map(Number);
const rows = [];
for (const size of sizes) for (let run = 0; run < runs; run++) {
  const child = spawnSync(process.execPath, ['--max-old-space-size=8192', here, '--child', String(size), String(periods)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`run at N=${size} failed:\n${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').at(-1));
  rows.push({
    N: size, periods,
    'M events/s': (r.events / r.seconds / 1e6).toFixed(2),
    'events/period': Math.round(r.events / periods),
    's/period': (r.seconds / periods).toFixed(3),
    'init s': r.initSeconds.toFixed(1),
    'peak RSS MB': (r.peakRss / 2 ** 20).toFixed(0),
    'bytes/node': (r.peakRss / size).toFixed(0),
  });
}
report('event', rows);
if (runs > 1) {
  for (const size of sizes) {
    const rates = rows.filter((row) => row.N === size).map((row) => Number(row['M events/s']));
    console.log(`N = ${size}: median ${median(rates).toFixed(2)} M events/s over ${runs} runs (${Math.min(...rates).toFixed(2)}-${Math.max(...rates).toFixed(2)})`);
  }
}
