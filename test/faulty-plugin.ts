import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Writes `faulty.mjs`, a plug-in that misbehaves on request, into `dir` and returns
 * its path. It imports pcsim's built API (dist/) by absolute URL, so it works from
 * any folder: run `npm run build` first.
 * - protocol `spin`: its step loops forever from cycle `from` on;
 * - protocol `block`: its step blocks in a system call from cycle `from` on (reading
 *   the FIFO `fifo`, which no one writes);
 * - protocol `explode`: throws in `create` or `init`, or loops forever in `init` (`in: hang`);
 * - protocol `linger`: leaves a timer running (as a careless plug-in might);
 * - observer `halfway`: from cycle `at` on, emits one metric and then throws.
 */
export function writeFaultyPlugin(dir: string): string {
  const api = pathToFileURL(resolve('dist/index.js')).href;
  const path = join(dir, 'faulty.mjs');
  writeFileSync(path, `import { readFileSync } from 'node:fs';
import { defineObserver, defineProtocol, z } from ${JSON.stringify(api)};

export const spin = defineProtocol({
  type: 'spin', description: 'loops forever from cycle "from" on',
  params: z.strictObject({ from: z.number().int().default(1) }),
  create: (ctx, params) => ({
    step() {
      if (ctx.clock.cycle + 1 >= params.from) for (;;) {}
    },
  }),
});

export const block = defineProtocol({
  type: 'block', description: 'blocks in a system call from cycle "from" on',
  params: z.strictObject({ from: z.number().int().default(1), fifo: z.string() }),
  create: (ctx, params) => ({
    step() {
      if (ctx.clock.cycle + 1 >= params.from) readFileSync(params.fifo);
    },
  }),
});

export const explode = defineProtocol({
  type: 'explode', description: 'throws while the run is built',
  params: z.strictObject({ in: z.enum(['create', 'init', 'hang']).default('create') }),
  create: (ctx, params) => {
    if (params.in === 'create') throw new Error('explode: create failed');
    return {
      step() {},
      init() {
        if (params.in === 'hang') for (;;) {}
        throw new Error('explode: init failed');
      },
    };
  },
});

export const linger = defineProtocol({
  type: 'linger', description: 'leaves a timer running',
  params: z.strictObject({}),
  create: () => {
    setInterval(() => {}, 1000);
    return { step() {} };
  },
});

export const halfway = defineObserver({
  type: 'halfway', description: 'throws in the middle of its observation from cycle "at" on',
  params: z.strictObject({ at: z.number().int().default(1) }),
  create: (ctx, params) => ({
    observe(emit) {
      emit('first', ctx.clock.cycle);
      if (ctx.clock.cycle >= params.at) throw new Error('halfway: observer failed');
      emit('second', ctx.clock.cycle);
    },
  }),
});
`);
  return path;
}
