#!/usr/bin/env node
// pcsim from 10^6 to 10^8 nodes (issue 15): Cyclon c = 20, l = 5, random initial caches,
// the overlay observer every 10 cycles (1,000 sampled nodes, one BFS source). Each size
// runs as `pcsim run` does (runScenario: metrics.csv and manifest.json in a temporary
// folder), in a process of its own so that its peak RSS is its own; the figures are the
// manifest's: setup_seconds, cycle_seconds / cycles, observer_seconds / observations,
// peak_rss_bytes / N.
//
//   npm run build && node experiments/perf/scale.mjs [--sizes 1000000,10000000,100000000] [--cycles 10] [--dist dist]
//
// Prints a table and appends one line per size to results/perf/scale.tsv. At 10^8 a run
// needs about 16 GB and (at the figures in the README) some 15 minutes: run it on a quiet machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { option, report } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const scenarioFile = fileURLToPath(new URL('../../scenarios/cyclon.yaml', import.meta.url));

if (args[0] === '--child') {
  // One run: dist folder, N, cycles, output folder. Prints the manifest's figures as a JSON line.
  const [dist, size, cycles, out] = [args[1], Number(args[2]), Number(args[3]), args[4]];
  const { runScenario } = await import(pathToFileURL(join(dist, 'index.js')).href);
  await runScenario(scenarioFile, {
    out,
    set: [`size=${size}`, `cycles=${cycles}`, 'protocols.cyclon.cache=20', 'protocols.cyclon.shuffle=5',
      'protocols.cyclon.init.topology=random', 'observers.overlay.every=10', 'observers.overlay.sample=1000', 'observers.overlay.sources=1'],
  });
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  // Observations: the cycles that have rows in metrics.csv (the second column).
  const lines = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const at = lines[0].split(',').indexOf('cycle');
  const observations = new Set(lines.slice(1).map((line) => line.split(',')[at])).size;
  console.log(JSON.stringify({ manifest, observations }));
  process.exit(0);
}

const dist = resolve(option('dist', fileURLToPath(new URL('../../dist', import.meta.url))));
const cycles = Number(option('cycles', 10));
const sizes = option('sizes', '1000000,10000000,100000000').split(',').map(Number);

const rows = [];
for (const size of sizes) {
  const out = mkdtempSync(join(tmpdir(), 'pcsim-scale-'));
  try {
    // The node state is in typed arrays, outside V8's heap; the heap limit only needs room for the rest.
    const heapMb = Math.max(8192, Math.ceil((size * 64) / 2 ** 20));
    const child = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, here, '--child', dist, String(size), String(cycles), join(out, 'run')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`the run at N = ${size} failed (exit ${child.status ?? child.signal})`);
    const { manifest, observations } = JSON.parse(child.stdout.trim().split('\n').at(-1));
    const fixed = (x, digits) => (typeof x === 'number' ? x.toFixed(digits) : '-');
    rows.push({
      N: size, cycles: manifest.cycles_completed, observations,
      'setup s': fixed(manifest.setup_seconds, 1),
      's/cycle': fixed(manifest.cycle_seconds / manifest.cycles_completed, 3),
      's/observation': fixed(manifest.observer_seconds / observations, 2),
      'peak RSS MB': (manifest.peak_rss_bytes / 2 ** 20).toFixed(0),
      'bytes/node': (manifest.peak_rss_bytes / size).toFixed(1),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
report('scale', rows);
