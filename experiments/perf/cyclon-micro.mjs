#!/usr/bin/env node
// Cyclon alone (no observer), for A/B comparisons of builds of src/protocols/cyclon.ts.
//
//   node experiments/perf/cyclon-micro.mjs speed [dist] [N] [cycles]       median wall and CPU s/cycle
//   node experiments/perf/cyclon-micro.mjs pair distA distB [N] [cycles]  both builds in one process, turn about
//   node experiments/perf/cyclon-micro.mjs spread [dist] [N] [seeds]       in-degree mean/std after 50 cycles
//
// A build folder must sit inside the repository (default dist): copy an old build to,
// say, .ab-old. On a shared machine `pair` is the steadiest comparison: both builds
// see the same load, and the median ratio of their turns cancels most of it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode = 'speed', dist = 'dist', ...rest] = process.argv.slice(2);
const scenarioPath = new URL('../../scenarios/cyclon.yaml', import.meta.url).pathname;
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const build = (folder) => import(pathToFileURL(resolve(folder, 'index.js')).href);
const [a, b] = rest;

async function benchmark(folder, size, cycles) {
  const { loadScenario, Simulation } = await build(folder);
  const { scenario, registry } = await loadScenario(scenarioPath, {
    set: [`size=${size}`, `cycles=${cycles}`, 'protocols.cyclon.shuffle=5', 'observers={}'],
  });
  return new Simulation(scenario, registry);
}

/** CPU seconds (steadier than wall-clock on a shared machine) of `cycles` cycles. */
function cpuSeconds(simulation, cycles) {
  const u = process.cpuUsage();
  for (let k = 0; k < cycles; k++) simulation.runCycle(() => {});
  const { user, system } = process.cpuUsage(u);
  return (user + system) / 1e6;
}

if (mode === 'pair') {
  const other = rest[0];
  const [size, cycles] = [Number(rest[1] ?? 1e6), Number(rest[2] ?? 14)];
  const simulations = [await benchmark(dist, size, cycles), await benchmark(other, size, cycles)];
  const turn = Math.max(1, Math.round(3e5 / size)); // cycles per turn: about 0.1 s
  const ns = [[], []];
  for (let k = 0; k < cycles; k += turn) {
    for (let s = 0; s < 2; s++) ns[s].push(cpuSeconds(simulations[s], turn) * 1e9 / (turn * size));
  }
  // The first turns include compilation.
  const skip = Math.ceil(ns[0].length / 5);
  const [x, y] = [ns[0].slice(skip), ns[1].slice(skip)];
  console.log(JSON.stringify({
    size, [dist]: Math.round(median(x)), [other]: Math.round(median(y)),
    ratio: +median(x.map((v, i) => y[i] / v)).toFixed(3), turns: x.length,
  }));
  process.exit(0);
}

if (mode === 'speed') {
  const [size, cycles] = [Number(a ?? 1e6), Number(b ?? 12)];
  const simulation = await benchmark(dist, size, cycles);
  // Wall-clock and CPU time per cycle: on a shared machine the CPU time is the steadier.
  const wall = [], cpu = [];
  for (let k = 0; k < cycles; k++) {
    const t = performance.now(), u = process.cpuUsage();
    simulation.runCycle(() => {});
    const { user, system } = process.cpuUsage(u);
    wall.push((performance.now() - t) / 1000);
    cpu.push((user + system) / 1e6);
  }
  // The first cycles include compilation; the rest are steady state.
  const [w, c] = [median(wall.slice(2)), median(cpu.slice(2))];
  console.log(JSON.stringify({ dist, size, wall: +w.toFixed(4), cpu: +c.toFixed(4), nsPerExchange: Math.round(Math.min(w, c) * 1e9 / size) }));
} else {
  // As in the convergence test: from a ring, c = 20, l = 8, 50 cycles; one line per seed.
  const [size, seeds] = [Number(a ?? 1e4), Number(b ?? 5)];
  const { loadScenario, Simulation } = await build(dist);
  const stds = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const { scenario, registry } = await loadScenario(scenarioPath, {
      set: [`seed=${seed}`, `size=${size}`, 'cycles=50', 'protocols.cyclon.shuffle=8', 'protocols.cyclon.init.topology=ring',
        'observers.overlay.every=50', 'observers.overlay.sample=100', 'observers.overlay.sources=1'],
    });
    const rows = new Map();
    new Simulation(scenario, registry).run((cycle, observer, metric, value) => rows.set(`${cycle} ${metric}`, value));
    stds.push(rows.get('50 indegree_std'));
    console.log(JSON.stringify({ seed, mean: rows.get('50 indegree_mean'), std: rows.get('50 indegree_std') }));
  }
  console.log(JSON.stringify({ dist, size, meanStd: +(stds.reduce((x, y) => x + y, 0) / stds.length).toFixed(4) }));
}
