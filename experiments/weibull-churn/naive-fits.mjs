// What the simpler fits give on one run of the scenario, beside the churn observer's:
// the README's table "why censoring and whole cycles matter". Run after `npm run build`:
//
//   node experiments/weibull-churn/naive-fits.mjs [size] [cycles]      (default 5000 400)
//
// It reads the lengths of the completed sessions that the sessions control keeps
// (record), and the sessions the observer saw, through the built simulation's objects.
import { fileURLToPath } from 'node:url';
import { Simulation } from '../../dist/engine/simulation.js';
import { builtinRegistry } from '../../dist/builtins.js';
import { loadScenario } from '../../dist/scenario/load.js';

const size = Number(process.argv[2] ?? 5000);
const cycles = Number(process.argv[3] ?? 400);
const file = fileURLToPath(new URL('scenario.yaml', import.meta.url));
const { scenario, registry } = await loadScenario(file, {
  registry: builtinRegistry(),
  set: [`size=${size}`, `cycles=${cycles}`, 'controls.sessions.record=100000000'],
});
const simulation = new Simulation(scenario, registry);
const last = {};
simulation.run((at, observer, metric, value) => { if (observer === 'sessions') last[metric] = value; });

/**
 * Maximum likelihood Weibull of lengths taken as exact, `ended` completed and `running`
 * right-censored at their ages: the shape solves the profile-likelihood equation
 * sum(x^k ln x) / sum(x^k) - 1/k - mean(ln x over ended) = 0 (bisection on ln k).
 */
function weibullMle(ended, running) {
  const all = [...ended, ...running];
  const meanLog = ended.reduce((s, x) => s + Math.log(x), 0) / ended.length;
  const g = (k) => {
    let a = 0, b = 0;
    for (const x of all) { const p = x ** k; a += p * Math.log(x); b += p; }
    return a / b - 1 / k - meanLog;
  };
  let lo = Math.log(0.05), hi = Math.log(5);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (g(Math.exp(mid)) < 0) lo = mid; else hi = mid;
  }
  const k = Math.exp((lo + hi) / 2);
  const scale = (all.reduce((s, x) => s + x ** k, 0) / ended.length) ** (1 / k);
  return { shape: k, scale };
}

const sessions = simulation.controls.find((c) => c.name === 'sessions').instance;
const tracking = simulation.observers.find((o) => o.name === 'sessions').instance.inner.tracking;
const completed = [...sessions.completed];
// Whole cycles, as the observer saw them (observing every cycle: lo = hi).
const wholeEnded = [];
for (const [key, count] of Object.entries(tracking.kept.ended)) {
  const [, , hi] = key.split('|').map(Number);
  for (let i = 0; i < count; i++) wholeEnded.push(hi);
}
const { store } = simulation;
const wholeRunning = [];
for (let slot = 0; slot < store.capacity; slot++) {
  if (store.isLive(slot) && tracking.node[slot] >= 0) wholeRunning.push(cycles - tracking.since[slot] + 1);
}
const rows = [
  ['completed sessions only, exact lengths (no censoring)', weibullMle(completed, [])],
  ['whole cycles taken as exact lengths, with censoring', weibullMle(wholeEnded, wholeRunning)],
  ['the churn observer (whole cycles modelled, censoring, truncation)', { shape: last.session_shape, scale: last.session_scale }],
];
console.log(`size ${size}, ${cycles} cycles, seed ${scenario.seed}: ${completed.length} sessions ended, ${wholeRunning.length} running`);
for (const [name, fit] of rows) console.log(`| ${name} | ${fit.shape.toFixed(3)} | ${fit.scale.toFixed(1)} |`);
