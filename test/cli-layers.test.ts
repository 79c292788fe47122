import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The CLI (and the library's entry points) hand the catalogue of built-in types to the loader, which holds none of its own. */
describe('the scenario loader', () => {
  it('imports neither the built-in catalogue nor anything above it (the CLI, the runner, output)', () => {
    const upward: string[] = [];
    for (const file of readdirSync('src/scenario', { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join('src/scenario', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.\/[^'"]+)['"]/g)) {
        if (!spec.startsWith('../engine/')) upward.push(`${file}: ${spec}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
