import { readFileSync } from 'node:fs';

/** pcsim's own version, from its package.json. */
export const pcsimVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
