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

describe('the building line', () => {
  it('shows the step of the build under way and the time since it began', async () => {
    const { ProgressDisplay } = await import('../../src/output/progress.js');
    let shown = '';
    const stream = { write: (text: string) => { shown += text; return true; } } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(stream);
    const shows = async (text: string) => {
      for (let waited = 0; !shown.includes(text) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    let step = { step: 'nodes', done: 500, total: 1000 };
    display.building(1000, () => step);
    await shows('nodes 50%');
    step = { step: 'protocols.cyclon.init', done: 0, total: 0 };
    await shows('protocols.cyclon.init');
    display.stop();
    expect(shown.startsWith('building 1,000 nodes...')).toBe(true);
    expect(shown).toMatch(/\r\x1b\[2Kbuilding 1,000 nodes\.\.\. nodes 50%, \ds/);
    expect(shown).toMatch(/\r\x1b\[2Kbuilding 1,000 nodes\.\.\. protocols\.cyclon\.init, \ds/);
    expect(shown.endsWith('\n')).toBe(true);
  });

  it('gets the steps from the simulation thread while it builds', async () => {
    const { superviseRun } = await import(new URL('../../dist/supervise.js', import.meta.url).href) as typeof import('../../src/supervise.js');
    const file = scenarioFile({ ...cyclon, size: 300_000, cycles: 1 });
    const steps = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await superviseRun({ task: { run: file }, out: join(tempDir(), 'out'), graceSeconds: 5 }, {
      onPhase: (event) => {
        clearInterval(timer);
        if (event.phase === 'building') timer = setInterval(() => { const step = event.setup(); if (step) steps.add(step.step); }, 2);
      },
    });
    clearInterval(timer);
    expect(outcome.kind).toBe('ended');
    expect(steps.size).toBeGreaterThan(0);
    for (const step of steps) expect(['nodes', 'protocols.cyclon', 'protocols.cyclon.init']).toContain(step);
  });
});
