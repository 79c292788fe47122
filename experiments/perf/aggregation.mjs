// How much push-pull averaging adds to a Cyclon cycle at scale (issue 3, done-when 5:
// at most 40%). Runs Cyclon alone and Cyclon plus one averaging instance, each in
// its own child process (so peak RSS and JIT state are per configuration), and
// reports the median seconds per cycle over the timed cycles.
//
//   npm run build && node experiments/perf/aggregation.mjs [size] [cycles] [repeats]
//
// Defaults: 10^6 nodes, 5 timed cycles after 1 untimed warm-up cycle, 1 repeat.
// With repeats > 1 the two configurations alternate, so drift on a shared machine
// hits both alike. Appends one line to results/perf/aggregation.tsv.
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** The scenario of one configuration, as YAML text. */
function scenarioText(size, cycles, withAggregation) {
  return [
    `size: ${size}`,
    `cycles: ${cycles}`,
    'protocols:',
    '  cyclon: { type: cyclon, cache: 20, shuffle: 5, init: { topology: random } }',
    ...(withAggregation ? ['  average: { type: aggregation, function: average, sampler: cyclon, init: { kind: peak } }'] : []),
    '',
  ].join('\n');
}

/** Child: builds one simulation, runs warm-up plus timed cycles, sends back the timings. */
async function child(file) {
  const { Simulation, loadScenario } = await import(join(root, 'dist', 'index.js'));
  const { scenario, registry } = await loadScenario(file);
  const simulation = new Simulation(scenario, registry);
  const ignore = () => {};
  simulation.runCycle(ignore); // warm-up: lets the JIT settle before timing
  const seconds = [];
  while (!simulation.done) {
    const start = process.hrtime.bigint();
    simulation.runCycle(ignore);
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  process.send({ seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 });
}

function runChild(file) {
  return new Promise((resolve, reject) => {
    const worker = fork(fileURLToPath(import.meta.url), ['--child', file], { stdio: 'inherit' });
    let result;
    worker.on('message', (message) => { result = message; });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`child exited with code ${code}`))));
  });
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const size = Number(process.argv[2] ?? 1_000_000);
  const timedCycles = Number(process.argv[3] ?? 5);
  const repeats = Number(process.argv[4] ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'pcsim-perf-'));
  const files = {
    cyclon: join(dir, 'cyclon.yaml'),
    aggregation: join(dir, 'cyclon-average.yaml'),
  };
  writeFileSync(files.cyclon, scenarioText(size, timedCycles + 1, false));
  writeFileSync(files.aggregation, scenarioText(size, timedCycles + 1, true));

  const seconds = { cyclon: [], aggregation: [] };
  const rss = { cyclon: 0, aggregation: 0 };
  for (let r = 0; r < repeats; r++) {
    for (const config of ['cyclon', 'aggregation']) {
      const result = await runChild(files[config]);
      seconds[config].push(...result.seconds);
      rss[config] = Math.max(rss[config], result.peakRssBytes);
    }
  }
  const cyclon = median(seconds.cyclon);
  const withAverage = median(seconds.aggregation);
  const overhead = (100 * (withAverage - cyclon)) / cyclon;
  const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);

  console.log('| N | timed cycles | Cyclon s/cycle | Cyclon + averaging s/cycle | overhead | peak RSS Cyclon | peak RSS Cyclon + averaging |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| ${size} | ${timedCycles} x ${repeats} | ${cyclon.toFixed(3)} | ${withAverage.toFixed(3)} | ${overhead.toFixed(1)}% | ${mb(rss.cyclon)} MB | ${mb(rss.aggregation)} MB |`);

  const out = join(root, 'results', 'perf', 'aggregation.tsv');
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out)) {
    appendFileSync(out, 'date\tnode\tsize\ttimed_cycles\trepeats\tcyclon_s_per_cycle\tcyclon_average_s_per_cycle\toverhead_pct\tpeak_rss_cyclon_mb\tpeak_rss_cyclon_average_mb\n');
  }
  appendFileSync(out, [
    new Date().toISOString(), process.version, size, timedCycles, repeats,
    cyclon.toFixed(4), withAverage.toFixed(4), overhead.toFixed(1), mb(rss.cyclon), mb(rss.aggregation),
  ].join('\t') + '\n');
  console.log(`appended to ${out}`);
}

if (process.argv[2] === '--child') await child(process.argv[3]);
else await main();
