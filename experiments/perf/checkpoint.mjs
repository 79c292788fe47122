#!/usr/bin/env node
// Checkpoint size and time at scale: scenarios/cyclon.yaml at N nodes, one cycle run,
// then the run's state saved to DIR/checkpoint (written, flushed to disk, renamed), read
// back and restored into a freshly built run, which must then give the same next cycle.
// Each size runs in its own process.
//
//   npm run build && node experiments/perf/checkpoint.mjs [--sizes 1000000,10000000] [--dir FOLDER (default: the system's temporary folder)]
//
// Prints a table and appends one line per size to results/perf/checkpoint.tsv.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, report } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

if (args[0] === '--child') {
  const [size, dir] = [Number(args[1]), args[2]];
  const { loadScenario } = await import('../../dist/index.js');
  const { buildSimulation } = await import('../../dist/scenario/build.js');
  const { openCheckpoint, writeCheckpoint } = await import('../../dist/output/checkpoint.js');
  const loaded = await loadScenario(new URL('../../scenarios/cyclon.yaml', import.meta.url).pathname, {
    set: [`size=${size}`, 'cycles=3', 'observers.overlay.sample=100'],
  });
  const rows = (into) => (at, observer, metric, value) => into.push(`${at},${observer},${metric},${value}`);
  const original = buildSimulation(loaded);
  original.observe(() => {});
  original.advance(() => {});

  let t = performance.now();
  const sections = original.saveState();
  const run = {
    pcsim: 'measure', node: process.version, run_id: 'measure', file: '', set: [], seed: null, build: 'measure', inputs: {}, scenario: loaded.scenario,
    cycle: 1, simulated_time_ms: 0, events_processed: 0, csv_bytes: 0, written: new Date().toISOString(),
  };
  const bytes = writeCheckpoint(dir, run, sections);
  const writeSeconds = (performance.now() - t) / 1000;

  const expected = [];
  original.advance(rows(expected));

  const restored = buildSimulation(loaded);
  t = performance.now();
  const checkpoint = openCheckpoint(join(dir, 'checkpoint'));
  restored.restoreState(checkpoint.readSections());
  const restoreSeconds = (performance.now() - t) / 1000;
  const got = [];
  restored.advance(rows(got));
  const same = got.join('\n') === expected.join('\n');
  console.log(JSON.stringify({ size, bytes, sections: sections.length, writeSeconds, restoreSeconds, same, peakRss: process.resourceUsage().maxRSS * 1024 }));
  process.exit(0);
}

const sizes = option('sizes', '1000000,10000000').split(',').map(Number);
const base = option('dir', tmpdir());
const results = [];
for (const size of sizes) {
  const dir = mkdtempSync(join(base, 'pcsim-checkpoint-'));
  try {
    const child = spawnSync(process.execPath, ['--max-old-space-size=16384', here, '--child', String(size), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`size ${size}: exit ${child.status}`);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
    if (!result.same) throw new Error(`size ${size}: the restored run's next cycle differs`);
    results.push(result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
report('checkpoint', results.map((r) => ({
  nodes: r.size,
  'checkpoint MB': (r.bytes / 1e6).toFixed(1),
  'bytes/node': (r.bytes / r.size).toFixed(1),
  sections: r.sections,
  'write s': r.writeSeconds.toFixed(2),
  'write MB/s': (r.bytes / 1e6 / r.writeSeconds).toFixed(0),
  'read+restore s': r.restoreSeconds.toFixed(2),
  'peak RSS GB': (r.peakRss / 1e9).toFixed(2),
})));
