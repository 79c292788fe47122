// Writes sample.avt: the up-intervals of 200 nodes under pcsim's own session churn
// model (Weibull ON, shape 0.38, scale 42.4 min; exponential OFF, mean 60 min) over
// 300 one-minute cycles, in seconds. Run: npx tsx scenarios/traces/make-sample-trace.ts
import { writeFileSync } from 'node:fs';
import { loadScenario, Simulation } from '../../src/index.js';

const here = new URL('.', import.meta.url).pathname;
const { scenario, registry } = await loadScenario(`${here}../churn-weibull.yaml`, {
  set: ['size=200', 'cycles=300', 'observers={}'],
});
const simulation = new Simulation(scenario, registry);
const ids = Array.from({ length: scenario.size }, (_, id) => id);
const intervals: [number, number][][] = ids.map(() => []);
const upSince: number[] = ids.map((id) => (simulation.store.slotOf(id) >= 0 ? 0 : -1));
while (!simulation.done) {
  simulation.runCycle(() => {});
  const cycle = simulation.clock.cycle;
  for (const id of ids) {
    const up = simulation.store.slotOf(id) >= 0;
    if (up && upSince[id] < 0) upSince[id] = cycle;
    if (!up && upSince[id] >= 0) { intervals[id].push([upSince[id], cycle]); upSince[id] = -1; }
  }
}
for (const id of ids) if (upSince[id] >= 0) intervals[id].push([upSince[id], scenario.cycles]);
const lines = ids.map((id) => [`node${id}`, intervals[id].length, ...intervals[id].flat().map((t) => t * 60)].join(' '));
writeFileSync(`${here}sample.avt`, `${lines.join('\n')}\n`);
console.log(`wrote ${here}sample.avt: ${ids.length} nodes, ${intervals.flat().length} up-intervals`);
