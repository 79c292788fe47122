#!/usr/bin/env node
// A/B of two builds of pcsim on the P2P cloud scenario (scenarios/cloud.yaml scaled to
// --size nodes, requests scaled alike: see cloud-scenario.mjs), in one process: each
// build runs its own simulation and the two take turns, one cycle each, so both see the
// same machine load and the same stage of the run (the allocator's work grows as
// subclouds fill).
//
//   npx tsc -p tsconfig.build.json --outDir .ab-cloud-old   (the old source)
//   npx tsc -p tsconfig.build.json --outDir .ab-cloud-new   (the new one)
//   node --max-old-space-size=8192 experiments/perf/cloud-ab.mjs .ab-cloud-old .ab-cloud-new [--size 1000000] [--cycles 30] [--split]
//
// --split also prints, per build, the median seconds per cycle of each protocol's
// steps, the controls and the observers (it reaches into the simulation's lists).
//
// Prints each build's median s/cycle and the median of B/A per turn; appends to
// results/perf/cloud-ab.tsv, with the load average (1 minute) before and after.
import { loadavg } from 'node:os';
import { loadCloud } from './cloud-scenario.mjs';
import { median, option, report } from './report.mjs';

const [a, b] = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!a || !b) throw new Error('usage: cloud-ab.mjs <build A> <build B> [--size N] [--cycles C] [--split]');
const size = Number(option('size', 1_000_000));
const cycles = Number(option('cycles', 30));
const split = process.argv.includes('--split');

async function start(dist) {
  const { pcsim, scenario, registry } = await loadCloud(dist, size, cycles);
  const simulation = new pcsim.Simulation(scenario, registry);
  const parts = {};
  if (split) timeParts(simulation, parts);
  const sink = () => {};
  simulation.observe(sink);
  return {
    parts,
    cycle() {
      const t = performance.now();
      simulation.runCycle(sink);
      return (performance.now() - t) / 1000;
    },
  };
}

/** Wraps the simulation's protocol steps, controls and observers to add their seconds to parts[name] (a list, one entry per cycle). */
function timeParts(simulation, parts) {
  const wrap = (object, method, name) => {
    const f = object[method];
    if (!f) return;
    parts[name] = [0];
    object[method] = function (...args) {
      const t = performance.now();
      const result = f.apply(this, args);
      parts[name][parts[name].length - 1] += (performance.now() - t) / 1000;
      return result;
    };
  };
  for (const [name, protocol] of simulation.protocols) { wrap(protocol, 'stepAll', name); wrap(protocol, 'beginCycle', `${name}.begin`); }
  for (const [i, { instance }] of simulation.observers.entries()) wrap(instance, 'observe', `observer ${i}`);
  for (const [i, { instance }] of simulation.controls.entries()) wrap(instance, 'execute', `control ${i}`);
}

const loadBefore = loadavg()[0];
const runA = await start(a);
const runB = await start(b);
const seconds = { a: [], b: [], ratio: [] };
for (let i = 0; i < cycles; i++) {
  const x = runA.cycle();
  const y = runB.cycle();
  seconds.a.push(x);
  seconds.b.push(y);
  seconds.ratio.push(y / x);
  for (const run of [runA, runB]) for (const list of Object.values(run.parts)) list.push(0);
  console.log(`cycle ${i + 1}: A ${x.toFixed(2)} s, B ${y.toFixed(2)} s`);
}
if (split) {
  for (const [label, run] of [['A', runA], ['B', runB]]) {
    const shown = Object.entries(run.parts).map(([name, list]) => `${name} ${median(list.slice(0, -1)).toFixed(3)} (mean ${(list.reduce((s, x) => s + x, 0) / cycles).toFixed(3)})`);
    console.log(`${label} median (mean) s/cycle: ${shown.join(', ')}`);
  }
}
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(`B/A per turn: ${seconds.ratio.map((r) => r.toFixed(2)).join(' ')}`);
report('cloud-ab', [{
  size, cycles, a, b,
  a_s_per_cycle: median(seconds.a).toFixed(3), b_s_per_cycle: median(seconds.b).toFixed(3),
  a_mean: mean(seconds.a).toFixed(3), b_mean: mean(seconds.b).toFixed(3), b_over_a: median(seconds.ratio).toFixed(3),
  load: `${loadBefore.toFixed(1)}-${loadavg()[0].toFixed(1)}`,
}]);
