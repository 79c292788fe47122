import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** pcsim's own version, from its package.json. */
export const pcsimVersion: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

let build: string | undefined;

/**
 * pcsim's build: the SHA-256 of its own code, every file of the kind this module is
 * (`.js` in dist/, `.ts` when run from the TypeScript sources through tsx) in the
 * folder this module is in and below, by relative path. The same code gives the same
 * build wherever it is installed; pcsim run from its sources is another build than
 * its compiled dist/. Computed once, on first use (writing or resuming a checkpoint).
 */
export function pcsimBuild(): string {
  if (build !== undefined) return build;
  const self = fileURLToPath(import.meta.url);
  const root = dirname(self);
  const kind = extname(self);
  const hash = createHash('sha256');
  for (const file of codeFiles(root, kind)) {
    hash.update(`${relative(root, file).split('\\').join('/')}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  build = hash.digest('hex');
  return build;
}

/** Every file ending in `kind` (but not `.d.ts`) under `folder`, sorted by path. */
function codeFiles(folder: string, kind: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...codeFiles(path, kind));
    else if (entry.isFile() && entry.name.endsWith(kind) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
