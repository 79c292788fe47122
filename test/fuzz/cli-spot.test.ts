import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const dir = tempDir('pcsim-cli-spot-');
const good = 'size: 100\ncycles: 2\nprotocols:\n  cyclon: { type: cyclon, cache: 8, shuffle: 3 }\n';

function pcsim(...args: string[]) {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['bin/pcsim.js', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr, ms: performance.now() - started };
}

/** Exit code 2, one line on stderr naming `location`, no stack trace. */
function expectCleanError(result: ReturnType<typeof pcsim>, location: string) {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^pcsim: ${location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
}

/** The command line end to end, on inputs the fuzz tests found or the issue reported (needs `npm run build`). */
describe('pcsim on hostile input (end to end)', () => {
  it('refuses a FIFO as the scenario without waiting on it', () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const result = pcsim('validate', fifo);
    expectCleanError(result, `${fifo}: expected a regular file, found a FIFO`);
    expect(result.ms).toBeLessThan(10_000);
  });

  it('refuses a --set value that is not YAML, and an alias bomb', () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, good);
    expectCleanError(pcsim('validate', file, '--set', 'size=[1'), '--set: size: expected a YAML value, found "[1"');
    const bomb = join(dir, 'bomb.yaml');
    const levels = Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    writeFileSync(bomb, `${good}l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n${levels.join('\n')}\n`);
    expectCleanError(pcsim('validate', bomb), `${bomb}:`);
  });

  it('refuses a run that cannot fit in memory before allocating it', () => {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, good.replace('size: 100', 'size: 1000000000'));
    const out = join(dir, 'huge-out');
    const result = pcsim('run', file, '--out', out);
    expectCleanError(result, `${file}:1: size: a run of 1,000,000,000 nodes needs about`);
    expect(result.ms).toBeLessThan(10_000);
  });
});
