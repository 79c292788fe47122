#!/usr/bin/env node
// Event queue throughput in the engine's steady state (issue 4): N nodes, each with a
// periodic timer (period 1000 ms, random phase). A timer event reschedules itself and
// sends a request with latency uniform in [10, 100] ms; a request schedules a reply
// with the same latency; a reply schedules nothing. So about 3N events per simulated
// second and N + ~0.1N pending. Compares src/engine/event-queue.ts (timing wheel)
// with a plain binary heap on typed arrays written here (PeerSim's layout: parallel
// arrays moved together along the sift path), on integer and fractional times.
//
//   npx tsx experiments/perf/event-queue.mjs [--nodes 1000000] [--events 10000000] [--runs 3]
//
// tsx runs the TypeScript source directly (no build needed). Each run is its own
// process, so its peak RSS is its own; the table gives medians over --runs runs, and
// one line per configuration is appended to results/perf/event-queue.tsv. Both
// queues pop the same events in the same order: the checksum column must agree.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, option, report } from './report.mjs';
import seedrandom from 'seedrandom';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

const TIMER = 0;
const REQUEST = 1;
const REPLY = 2;
const PERIOD = 1000;

/**
 * The baseline: a binary heap ordered by (time, sequence), with the same API as
 * EventQueue. Each entry's fields live in parallel typed arrays and move together.
 */
class BinaryHeapQueue {
  constructor(capacity = 1024) {
    this.times = new Float64Array(capacity);
    this.keys = new Float64Array(capacity); // sequence * 256 + kind, as in EventQueue
    this.destinations = new Int32Array(capacity);
    this.senders = new Int32Array(capacity);
    this.payloads = new Int32Array(capacity);
    this.count = 0;
    this.sequenceCounter = 0;
    this.now = 0;
    this.kind = 0;
    this.destination = 0;
    this.sender = 0;
    this.payload = 0;
  }

  grow() {
    const doubled = (a) => { const b = new a.constructor(a.length * 2); b.set(a); return b; };
    this.times = doubled(this.times);
    this.keys = doubled(this.keys);
    this.destinations = doubled(this.destinations);
    this.senders = doubled(this.senders);
    this.payloads = doubled(this.payloads);
  }

  get size() { return this.count; }

  schedule(time, kind, destination, sender, payload) {
    if (!(time >= this.now)) throw new RangeError(`time ${time} is before now (${this.now})`);
    if (this.count === this.times.length) this.grow();
    const { times, keys, destinations, senders, payloads } = this;
    const key = this.sequenceCounter++ * 256 + kind;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const tp = times[parent];
      if (tp < time || (tp === time && keys[parent] < key)) break;
      times[i] = tp; keys[i] = keys[parent];
      destinations[i] = destinations[parent]; senders[i] = senders[parent]; payloads[i] = payloads[parent];
      i = parent;
    }
    times[i] = time; keys[i] = key; destinations[i] = destination; senders[i] = sender; payloads[i] = payload;
  }

  pop() {
    if (this.count === 0) return false;
    const { times, keys, destinations, senders, payloads } = this;
    this.now = times[0];
    this.kind = keys[0] & 255;
    this.destination = destinations[0];
    this.sender = senders[0];
    this.payload = payloads[0];
    const n = --this.count;
    const time = times[n];
    const key = keys[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (times[child + 1] < times[child] || (times[child + 1] === times[child] && keys[child + 1] < keys[child]))) child++;
      const tc = times[child];
      if (time < tc || (time === tc && key < keys[child])) break;
      times[i] = tc; keys[i] = keys[child];
      destinations[i] = destinations[child]; senders[i] = senders[child]; payloads[i] = payloads[child];
      i = child;
    }
    times[i] = time; keys[i] = key;
    destinations[i] = destinations[n]; senders[i] = senders[n]; payloads[i] = payloads[n];
    return true;
  }
}

if (args[0] === '--child') {
  // One measured run. Prints a JSON line.
  const [impl, timeModel, nodes, events] = [args[1], args[2], Number(args[3]), Number(args[4])];
  const baseRss = process.memoryUsage().rss;
  let queue;
  if (impl === 'wheel') {
    const { EventQueue } = await import('../../src/engine/event-queue.ts');
    queue = new EventQueue();
  } else {
    queue = new BinaryHeapQueue();
  }
  const rng = seedrandom.alea('bench');
  const fractional = timeModel === 'fractional';
  const latency = fractional ? () => 10 + rng() * 90 : () => 10 + Math.floor(rng() * 91);

  for (let node = 0; node < nodes; node++) queue.schedule(fractional ? rng() * PERIOD : Math.floor(rng() * PERIOD), TIMER, node, node, 0);
  let checksum = 0;
  const run = (count) => {
    for (let i = 0; i < count; i++) {
      queue.pop();
      const now = queue.now;
      const kind = queue.kind;
      const self = queue.destination;
      checksum = (Math.imul(checksum, 31) + self * 4 + kind) | 0;
      if (kind === TIMER) {
        queue.schedule(now + PERIOD, TIMER, self, self, 0);
        queue.schedule(now + latency(), REQUEST, Math.floor(rng() * nodes), self, i);
      } else if (kind === REQUEST) {
        queue.schedule(now + latency(), REPLY, queue.sender, self, queue.payload);
      }
    }
  };
  // Warm up for one period (3N events): every node has then been through a full
  // timer/request/reply round and the pending set is in its steady state.
  let t = performance.now();
  run(3 * nodes);
  const warmSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  run(events);
  const seconds = (performance.now() - t) / 1000;
  console.log(JSON.stringify({
    impl, timeModel, nodes, events, seconds, warmSeconds, pending: queue.size, simulatedMs: queue.now,
    checksum: (checksum >>> 0).toString(16), peakRss: process.resourceUsage().maxRSS * 1024, baseRss,
  }));
  process.exit(0);
}

const nodes = Number(option('nodes', 1e6));
const events = Number(option('events', 1e7));
const runs = Number(option('runs', 3));
const configs = [['wheel', 'integer'], ['heap', 'integer'], ['wheel', 'fractional'], ['heap', 'fractional']];

// Runs alternate between configurations, so that drift on a shared machine hits all alike.
const results = new Map(configs.map((c) => [c.join(' '), []]));
for (let r = 0; r < runs; r++) {
  for (const [impl, timeModel] of configs) {
    const child = spawnSync(process.execPath, [...process.execArgv, '--max-old-space-size=8192', here, '--child', impl, timeModel, String(nodes), String(events)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${impl} ${timeModel} failed:\n${child.stderr}`);
    results.get(`${impl} ${timeModel}`).push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
}

const rows = [];
for (const [impl, timeModel] of configs) {
  const xs = results.get(`${impl} ${timeModel}`);
  const seconds = median(xs.map((x) => x.seconds));
  const peakRss = Math.max(...xs.map((x) => x.peakRss));
  const queueBytes = Math.max(...xs.map((x) => x.peakRss - x.baseRss));
  rows.push({
    queue: impl, times: timeModel, nodes, pending: xs[0].pending, events, runs,
    's': seconds.toFixed(2),
    'M events/s': (events / seconds / 1e6).toFixed(2),
    'ns/event': (seconds * 1e9 / events).toFixed(0),
    'peak RSS MB': (peakRss / 2 ** 20).toFixed(0),
    // Peak RSS above the process's RSS before the queue was made, per pending event.
    'bytes/pending': (queueBytes / xs[0].pending).toFixed(0),
    checksum: xs[0].checksum,
  });
}
report('event-queue', rows);
