import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The relative imports of every .ts file under `folder` that `allowed` refuses, as `file: specifier`. */
function importsOutside(folder: string, allowed: (specifier: string) => boolean): string[] {
  const found: string[] = [];
  for (const file of readdirSync(folder, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(folder, file), 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.\/[^'"]+)['"]/g)) {
      if (!allowed(specifier)) found.push(`${file}: ${specifier}`);
    }
  }
  return found;
}

/** Layers point one way: the engine owns its configuration and error types; scenario/, output and the CLI build on it. */
describe('layers', () => {
  it('the engine imports nothing from outside src/engine but packages', () => {
    expect(importsOutside('src/engine', () => false)).toEqual([]);
  });

  // The CLI (and the library's entry points) hand the catalogue of built-in types to the loader.
  // The expectations' schema is a leaf (it imports only zod): the loader validates `expect:` with it.
  it('the scenario loader imports only the engine and the expectations schema: not the built-in catalogue, the runner or output', () => {
    const allowed = (specifier: string) => specifier.startsWith('../engine/') || specifier === '../expect/expectations.js';
    expect(importsOutside('src/scenario', allowed)).toEqual([]);
  });

  it('the expectations schema imports nothing of pcsim', () => {
    expect(importsOutside('src/expect', (specifier) => !specifier.startsWith('../'))
      .filter((line) => line.startsWith('expectations.ts'))).toEqual([]);
  });
});
