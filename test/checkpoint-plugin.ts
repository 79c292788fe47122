import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Writes `tally.mjs` into `dir` and returns its path: a plug-in whose state lives only
 * in declarations (ctx.state), so that checkpoint and resume tests of the run, the CLI
 * and signals do not depend on the built-ins. It imports pcsim's built API (dist/) by
 * absolute URL: run `npm run build` first.
 * - protocol `tally`: each node keeps a value; a cycle step averages it with a random
 *   reachable node's; in the event engine each timer sends the value in a pooled
 *   record (messages in flight between periods) and sets a timeout.
 * - observer `tally`: the mean and variance of the values and the protocol's counters;
 * - observer `pace`: sleeps `ms` at each observation (every cycle or period), so that a
 *   run lasts long enough to be signalled midway however fast the machine is; the
 *   environment variable PCSIM_TEST_PACE_MS, when set, says how long instead (its
 *   rows stay the same: they hold `ms`).
 */
export function writeTallyPlugin(dir: string): string {
  const api = pathToFileURL(resolve('dist/index.js')).href;
  const path = join(dir, 'tally.mjs');
  writeFileSync(path, `import { defineObserver, defineProtocol, z } from ${JSON.stringify(api)};

export const tally = defineProtocol({
  type: 'tally', description: 'test protocol whose state is all declared',
  params: z.strictObject({}),
  create: (ctx) => {
    const { store } = ctx;
    const value = ctx.state.array('value', new Float64Array(store.capacity));
    const heard = ctx.state.array('heard', new Int32Array(store.capacity));
    const stats = ctx.state.values('stats', { sent: 0, delivered: 0, lost: 0, timeouts: 0 });
    const records = ctx.state.pool('records', 2, (length) => new Float64Array(length));
    const anyone = () => store.idOf[store.liveSlot(ctx.random.int(store.size))];
    return {
      value, heard, stats,
      init() {
        for (let i = 0; i < store.size; i++) value[store.liveSlot(i)] = ctx.initRandom.next() * 100;
      },
      step(slot) {
        const peer = ctx.contact(slot, anyone());
        if (peer < 0) return;
        const mean = (value[slot] + value[peer]) / 2;
        value[slot] = mean + ctx.random.next();
        value[peer] = mean;
        heard[peer]++;
      },
      onTimer(slot) {
        const record = records.allocate();
        records.data[2 * record] = value[slot];
        records.data[2 * record + 1] = ctx.random.next();
        if (ctx.transport.send(slot, anyone(), 0, record)) stats.sent++;
        else records.release(record);
        ctx.transport.timeout(slot, ctx.transport.period / 2, 0, 0);
      },
      onMessage(slot, kind, from, record) {
        value[slot] = (value[slot] + records.data[2 * record]) / 2 + records.data[2 * record + 1];
        records.release(record);
        heard[slot]++;
        stats.delivered++;
      },
      onTimeout() {
        stats.timeouts++;
      },
      onUndelivered(kind, record) {
        if (kind >= 0) records.release(record);
        stats.lost++;
      },
    };
  },
});

export const tallyObserver = defineObserver({
  type: 'tally', description: 'the tally protocol: mean and variance of the values, and its counters',
  params: z.strictObject({ protocol: z.string().default('tally') }),
  metrics: ['mean', 'variance', 'heard', 'sent', 'delivered', 'lost', 'timeouts'],
  create: (ctx, params) => ({
    observe(emit) {
      const { value, heard, stats } = ctx.protocol(params.protocol);
      let sum = 0, squares = 0, count = 0;
      for (let i = 0; i < ctx.store.size; i++) {
        const slot = ctx.store.liveSlot(i);
        sum += value[slot];
        squares += value[slot] * value[slot];
        count += heard[slot];
      }
      const mean = sum / ctx.store.size;
      emit('mean', mean);
      emit('variance', squares / ctx.store.size - mean * mean);
      emit('heard', count);
      for (const key of ['sent', 'delivered', 'lost', 'timeouts']) emit(key, stats[key]);
    },
  }),
});

const sleeper = new Int32Array(new SharedArrayBuffer(4));
export const pace = defineObserver({
  type: 'pace', description: 'sleeps at each observation',
  params: z.strictObject({ ms: z.number().min(0).default(20) }),
  metrics: ['ms'],
  create: (ctx, params) => ({
    observe(emit) {
      Atomics.wait(sleeper, 0, 0, Number(process.env.PCSIM_TEST_PACE_MS ?? params.ms));
      emit('ms', params.ms);
    },
  }),
});
`);
  return path;
}
