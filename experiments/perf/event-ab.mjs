#!/usr/bin/env node
// A/B of two builds of pcsim on the event-driven averaging over Cyclon (event.mjs's
// setup), in one process: each build runs its own simulation and the two take turns,
// one period each, so both see the same machine load. On this shared machine timings
// drift by ±15% between processes; turn by turn, the ratio is steady to about ±3%
// (an A/A run gives a median ratio of 0.97-1.03).
//
//   npx tsc -p tsconfig.build.json --outDir .ab-old   (at the old commit)
//   npx tsc -p tsconfig.build.json --outDir .ab-new   (at the new one)
//   node experiments/perf/event-ab.mjs .ab-old .ab-new [--size 1000000] [--periods 8]
//
// Build folders must sit inside the project so that node_modules resolves.
// Prints each build's median M events/s and the median of B/A per turn; appends to results/perf/event-ab.tsv.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, option, report } from './report.mjs';

const [a, b] = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!a || !b) throw new Error('usage: event-ab.mjs <build A> <build B> [--size N] [--periods P]');
const size = Number(option('size', 1_000_000));
const periods = Number(option('periods', 8));
const scenarioFile = fileURLToPath(new URL('../../scenarios/event-aggregation.yaml', import.meta.url));

async function start(dist) {
  const { loadScenario, Simulation, builtinRegistry } = await import(pathToFileURL(path.resolve(dist, 'index.js')).href);
  const { scenario, registry } = await loadScenario(scenarioFile, {
    registry: builtinRegistry(),
    set: [`size=${size}`, `cycles=${periods + 2}`, 'transport.latency={model: uniform, min: 10, max: 100}', 'observers={}'],
  });
  const simulation = new Simulation(scenario, registry);
  const sink = () => {};
  simulation.advance(sink);
  simulation.advance(sink); // warm-up: the JIT, the first timers' random phases
  return () => {
    const before = simulation.eventLoop.processed;
    const t = performance.now();
    simulation.advance(sink);
    return (simulation.eventLoop.processed - before) / (performance.now() - t) / 1000;
  };
}

const runA = await start(a);
const runB = await start(b);
const rates = { a: [], b: [], ratio: [] };
for (let i = 0; i < periods; i++) {
  const x = runA();
  const y = runB();
  rates.a.push(x);
  rates.b.push(y);
  rates.ratio.push(y / x);
}
console.log(`B/A per turn: ${rates.ratio.map((r) => r.toFixed(2)).join(' ')}`);
report('event-ab', [{
  size, periods, a, b,
  a_m_events_per_s: median(rates.a).toFixed(2), b_m_events_per_s: median(rates.b).toFixed(2), b_over_a: median(rates.ratio).toFixed(3),
}]);
