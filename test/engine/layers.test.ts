import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Layers point one way: the engine owns its configuration and error types; scenario/, output and the CLI build on it. */
describe('the engine', () => {
  it('imports nothing from outside src/engine but packages', () => {
    const outward: string[] = [];
    for (const file of readdirSync('src/engine', { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join('src/engine', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.\/[^'"]+)['"]/g)) outward.push(`${file}: ${spec}`);
    }
    expect(outward).toEqual([]);
  });
});
