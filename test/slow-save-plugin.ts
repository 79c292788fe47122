import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Writes `slow-save.mjs` into `dir` and returns its path: a plug-in that makes a
 * checkpoint slow to write, so that a signal can be sent while one is written. Its
 * observer `slowsave` declares a value whose field is read when the state is saved:
 * the first time (in a process where PCSIM_TEST_SLOW_SAVE_MS is set), that read
 * creates the file `marker` and then sleeps that many ms. It imports pcsim's built
 * API (dist/) by absolute URL: run `npm run build` first.
 */
export function writeSlowSavePlugin(dir: string): string {
  const api = pathToFileURL(resolve('dist/index.js')).href;
  const path = join(dir, 'slow-save.mjs');
  writeFileSync(path, `import { writeFileSync } from 'node:fs';
import { defineObserver, z } from ${JSON.stringify(api)};

const sleeper = new Int32Array(new SharedArrayBuffer(4));
let slowed = false;

export const slowsave = defineObserver({
  type: 'slowsave', description: 'the first checkpoint is slow to write',
  params: z.strictObject({ marker: z.string() }),
  metrics: ['saves'],
  create: (ctx, params) => {
    const state = { saves: 0 };
    Object.defineProperty(state, 'slow', {
      enumerable: true,
      get() {
        const ms = Number(process.env.PCSIM_TEST_SLOW_SAVE_MS ?? 0);
        if (ms > 0 && !slowed) {
          slowed = true;
          writeFileSync(params.marker, '');
          Atomics.wait(sleeper, 0, 0, ms);
        }
        return 0;
      },
      // Restoring assigns the saved fields.
      set() {},
    });
    ctx.state.values('state', state);
    return { observe: (emit) => emit('saves', state.saves) };
  },
});
`);
  return path;
}
