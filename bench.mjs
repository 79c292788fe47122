import { loadScenario } from './dist/scenario/load.js';
import { Simulation } from './dist/engine/simulation.js';
const n = Number(process.argv[2] ?? 1e5), cycles = Number(process.argv[3] ?? 10), topo = process.argv[4] ?? 'random', shuffle = process.argv[5] ?? '5';
const { scenario, registry } = await loadScenario('/work/main/scenarios/cyclon.yaml', { set: [`size=${n}`, `cycles=${cycles}`, `protocols.cyclon.shuffle=${shuffle}`, `protocols.cyclon.init.topology=${topo}`, 'observers.overlay.every=1000'] });
let t = performance.now();
const sim = new Simulation(scenario, registry);
console.log('init', ((performance.now()-t)/1000).toFixed(2));
const rows = [];
t = performance.now();
for (let c = 0; c < cycles; c++) { const t0 = performance.now(); sim.runCycle(()=>{}); if (c%5==4) console.log('cycle', c+1, ((performance.now()-t0)/1000).toFixed(3)); }
console.log('per cycle', ((performance.now()-t)/1000/cycles).toFixed(3), 'ns/exchange', ((performance.now()-t)*1e6/cycles/n).toFixed(0));
t = performance.now();
sim.observe((c,o,m,v)=>rows.push(`${m}=${v}`));
console.log('observe', ((performance.now()-t)/1000).toFixed(2), rows.join(' '));
console.log('rss MB', (process.resourceUsage().maxRSS/1024).toFixed(0));
