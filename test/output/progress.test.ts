import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioFile, tempDir } from '../helpers.js';

// The build the pcsim command runs (dist/), which alone resumes the checkpoints it writes.
const { runScenario } = await import(new URL('../../dist/index.js', import.meta.url).href) as typeof import('../../src/index.js');

/** Runs pcsim with a terminal as stdout and stderr (util-linux `script`), and returns what the terminal showed. */
function onTerminal(...args: string[]): string {
  const command = [process.execPath, resolve('bin/pcsim.js'), ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout;
}

const cyclon = { size: 3000, cycles: 4, protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } } };

describe('the progress display on a terminal', () => {
  it('says what it builds, then counts cycles with a rate from the end of setup', () => {
    const shown = onTerminal('run', scenarioFile(cyclon), '--out', join(tempDir(), 'out'));
    expect(shown).toContain('building 3,000 nodes...');
    expect(shown).toMatch(/cycle 4\/4 \| [\d.]+ cycles\/s/);
    expect(shown).toContain('pcsim: completed: 4 cycles');
  });

  it('counts periods in the event engine', () => {
    const shown = onTerminal('run', scenarioFile({ ...cyclon, engine: 'event' }), '--out', join(tempDir(), 'out'));
    expect(shown).toMatch(/period 4\/4 \| [\d.]+ periods\/s/);
    expect(shown).not.toContain('cycles/s');
  });

  it('continues the count from the checkpoint when a run is resumed', async () => {
    const out = join(tempDir(), 'out');
    let done = 0;
    await runScenario(scenarioFile(cyclon), { out, onProgress: (progress) => { done = progress.cycles; }, shouldStop: () => done >= 2 });
    const shown = onTerminal('resume', out);
    expect(shown).toContain('building 3,000 nodes...');
    expect(shown).toMatch(/cycle 4\/4 \| [\d.]+ cycles\/s/);
    expect(shown).toContain('pcsim: completed: 4 cycles');
  });
});
