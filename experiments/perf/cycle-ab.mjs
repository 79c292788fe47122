#!/usr/bin/env node
// A/B of two builds of pcsim on Cyclon in the cycle engine (scenarios/cyclon.yaml,
// c = 20, l = 8, no observer), in one process: each build runs its own simulation and
// the two take turns, one cycle each, so both see the same machine load (see
// event-ab.mjs for why).
//
//   git worktree add /tmp/ab-old <old commit> && (cd /tmp/ab-old && npm ci)   or reuse a build:
//   npx tsc -p tsconfig.build.json --outDir .ab-old   (at the old commit)
//   npx tsc -p tsconfig.build.json --outDir .ab-new   (at the new one)
//   node experiments/perf/cycle-ab.mjs .ab-old .ab-new [--size 1000000] [--cycles 12] [--set-a k=v] [--set-b k=v]
//
// --set-a/--set-b apply a scenario override to one build only (a key the other build
// does not know, such as a protocol variant); each may be given more than once.
//
// Prints each build's median s/cycle and the median of B/A per turn; appends to results/perf/cycle-ab.tsv.
// Also prints the same for CPU seconds (the process's, while one build runs its turn): on a
// machine loaded beyond its cores, wall time also counts the turns' waits for a core.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, option, report } from './report.mjs';

const [a, b] = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!a || !b) throw new Error('usage: cycle-ab.mjs <build A> <build B> [--size N] [--cycles C]');
const size = Number(option('size', 1_000_000));
const cycles = Number(option('cycles', 12));
const scenarioFile = fileURLToPath(new URL('../../scenarios/cyclon.yaml', import.meta.url));

/** Every value given after `--name`. */
const options = (name) => process.argv.flatMap((arg, i, all) => (all[i - 1] === `--${name}` ? [arg] : []));
const setA = options('set-a').join(' ');
const setB = options('set-b').join(' ');

async function start(dist, extra) {
  const pcsim = await import(pathToFileURL(path.resolve(dist, 'index.js')).href);
  const { scenario, registry } = await pcsim.loadScenario(scenarioFile, {
    registry: pcsim.builtinRegistry(),
    set: [`size=${size}`, `cycles=${cycles + 2}`, 'observers={}', ...(extra ? extra.split(' ') : [])],
  });
  const simulation = new pcsim.Simulation(scenario, registry);
  const sink = () => {};
  simulation.advance(sink); // warm-up: the JIT
  return () => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    simulation.advance(sink);
    const { user, system } = process.cpuUsage(cpu);
    return { wall: (performance.now() - t) / 1000, cpu: (user + system) / 1e6 };
  };
}

const runA = await start(a, setA);
const runB = await start(b, setB);
const seconds = { a: [], b: [], ratio: [] };
const cpu = { a: [], b: [], ratio: [] };
for (let i = 0; i < cycles; i++) {
  const x = runA();
  const y = runB();
  seconds.a.push(x.wall);
  seconds.b.push(y.wall);
  seconds.ratio.push(y.wall / x.wall);
  cpu.a.push(x.cpu);
  cpu.b.push(y.cpu);
  cpu.ratio.push(y.cpu / x.cpu);
}
console.log(`B/A per turn: ${seconds.ratio.map((r) => r.toFixed(2)).join(' ')}`);
console.log(`CPU s/cycle: A ${median(cpu.a).toFixed(3)}, B ${median(cpu.b).toFixed(3)}, B/A per turn (median) ${median(cpu.ratio).toFixed(3)}`);
report('cycle-ab', [{
  size, cycles, a: setA ? `${a} ${setA}` : a, b: setB ? `${b} ${setB}` : b,
  a_s_per_cycle: median(seconds.a).toFixed(3), b_s_per_cycle: median(seconds.b).toFixed(3), b_over_a: median(seconds.ratio).toFixed(3),
}]);
