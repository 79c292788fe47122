import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { openCheckpoint } from '../src/output/checkpoint.js';
import { writeTallyPlugin } from './checkpoint-plugin.js';
import { writeFaultyPlugin } from './faulty-plugin.js';
import { scenarioFile, tempDir } from './helpers.js';
import { writeSlowSavePlugin } from './slow-save-plugin.js';

/*
 * `pcsim run` under signals: each test starts the command (dist/: build first), waits
 * for a given point of the run, signals it, and checks the exit code, the manifest and
 * that metrics.csv holds whole cycles only.
 */

const long = {
  name: 'long', size: 20_000, cycles: 100_000,
  protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
  observers: { overlay: { type: 'overlay', sample: 10, sources: 0 } },
};

/** Starts `pcsim run`; a test that fails midway must not leave the run spinning, so it is killed when the test ends. */
function start(test: TestContext, file: string, out: string, ...options: string[]) {
  return startPcsim(test, ['run', file, '--out', out, ...options]);
}

/** Starts `pcsim` with these arguments (and extra environment variables). */
function startPcsim(test: TestContext, args: readonly string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['bin/pcsim.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  test.onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; at: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, at: performance.now() }));
  });
  return { child, exited, stderr: () => stderr };
}

/** Waits for a point of the run; fails at once if the run ended before it. */
async function until(run: ReturnType<typeof start>, condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`the run ended before ${what}: ${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const manifestIn = (out: string) => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
/** The header of DIR/checkpoint (the file closed again). */
function headerIn(out: string) {
  const checkpoint = openCheckpoint(join(out, 'checkpoint'));
  checkpoint.close();
  return checkpoint.header;
}
const csvIn = (out: string) => (existsSync(join(out, 'metrics.csv')) ? readFileSync(join(out, 'metrics.csv'), 'utf8') : '');
/** The cycle of each data row (the third column: no --set overrides in these runs). */
const cyclesOf = (csv: string) => csv.trimEnd().split('\n').slice(1).map((line) => Number(line.split(',')[2]));

/** Every cycle in the CSV has as many rows as cycle 0, and the last one is `last`. */
function expectWholeCycles(csv: string, last: number) {
  const cycles = cyclesOf(csv);
  expect(cycles.at(-1)).toBe(last);
  const rowsPerCycle = cycles.filter((c) => c === 0).length;
  for (let c = 0; c <= last; c++) expect(cycles.filter((x) => x === c), `cycle ${c}`).toHaveLength(rowsPerCycle);
}

/** A small run with the cyclon protocol, an overlay observer and `protocols` of the faulty plug-in. */
function faultyScenario(protocols: Record<string, unknown>): string {
  const file = scenarioFile({
    name: 'faulty', size: 100, cycles: 10, plugins: ['./faulty.mjs'],
    protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 }, ...protocols },
    observers: { overlay: { type: 'overlay', sample: 10, sources: 0 } },
  });
  writeFaultyPlugin(join(file, '..'));
  return file;
}

describe('pcsim run, signalled', () => {
  it.for([['SIGINT', 130], ['SIGTERM', 143]] as const)('by %s ends after the current cycle with exit code %i', async ([signal, exitCode], test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, scenarioFile(long), out);
    await until(run, () => cyclesOf(csvIn(out)).at(-1)! >= 3, 'three cycles');
    run.child.kill(signal);
    const { code, stderr } = await run.exited;
    expect(code).toBe(exitCode);
    expect(stderr).toContain(`pcsim: interrupted by ${signal}:`);
    const manifest = manifestIn(out);
    expect(manifest).toMatchObject({ status: 'interrupted', interrupted_by: signal, error: null });
    expectWholeCycles(csvIn(out), manifest.cycles_completed);
    expect(manifest.csv_bytes).toBe(Buffer.byteLength(csvIn(out)));
  });

  it('by SIGKILL leaves a manifest that says how far the run got', async (test) => {
    const out = join(tempDir(), 'out');
    // Cycles of 50,000 nodes take longer than the manifest's 20 ms rewrite interval.
    const run = start(test, scenarioFile({ ...long, size: 50_000 }), out);
    await until(run, () => existsSync(join(out, 'manifest.json')) && manifestIn(out).cycles_completed >= 3, 'three cycles in the manifest');
    run.child.kill('SIGKILL');
    await run.exited;
    const manifest = manifestIn(out);
    expect(manifest.status).toBe('running');
    const csv = csvIn(out);
    // The manifest counts the rows up to csv_bytes; at most the cycle being written when killed follows.
    expectWholeCycles(Buffer.from(csv).subarray(0, manifest.csv_bytes).toString(), manifest.cycles_completed);
    expect(cyclesOf(csv).at(-1)! - manifest.cycles_completed).toBeLessThanOrEqual(1);
  });

  it('while a plug-in is stuck in a loop, ends the run once the grace period is over', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, faultyScenario({ spin: { type: 'spin', from: 3 } }), out, '--grace', '0.5');
    await until(run, () => cyclesOf(csvIn(out)).at(-1) === 2, 'cycle 2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const signalled = performance.now();
    run.child.kill('SIGTERM');
    const { code, stderr, at } = await run.exited;
    expect(code).toBe(143);
    expect(at - signalled).toBeGreaterThanOrEqual(450);
    expect(at - signalled).toBeLessThan(5000);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    const manifest = manifestIn(out);
    expect(manifest).toMatchObject({
      status: 'interrupted', interrupted_by: 'SIGTERM', cycles_completed: 2,
      error: 'killed: the cycle did not end within 0.5 s of SIGTERM',
    });
    expectWholeCycles(csvIn(out), 2);
  });

  it('while a plug-in is stuck in a loop, ends the run at once on a second signal', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, faultyScenario({ spin: { type: 'spin', from: 2 } }), out, '--grace', '60');
    await until(run, () => cyclesOf(csvIn(out)).at(-1) === 1, 'cycle 1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(130);
    const manifest = manifestIn(out);
    expect(manifest).toMatchObject({
      status: 'interrupted', interrupted_by: 'SIGINT', cycles_completed: 1,
      error: 'killed: a second signal (SIGINT) came before the cycle ended',
    });
    expectWholeCycles(csvIn(out), 1);
  });

  it.runIf(process.platform === 'linux')('while a plug-in is blocked in a system call, still ends the process', async (test) => {
    const out = join(tempDir(), 'out');
    const fifo = join(tempDir(), 'fifo');
    spawnSync('mkfifo', [fifo]);
    const run = start(test, faultyScenario({ block: { type: 'block', from: 2, fifo } }), out, '--grace', '0.2');
    await until(run, () => cyclesOf(csvIn(out)).at(-1) === 1, 'cycle 1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    // The blocked thread cannot be stopped, so the process ends by the signal itself.
    expect([code, signal]).toEqual([null, 'SIGTERM']);
    expect(manifestIn(out)).toMatchObject({
      status: 'interrupted', interrupted_by: 'SIGTERM', cycles_completed: 1,
      error: 'killed: the cycle did not end within 0.2 s of SIGTERM',
    });
    expectWholeCycles(csvIn(out), 1);
  });

  it('during setup, ends the run at once with a manifest that says so', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, faultyScenario({ hang: { type: 'explode', in: 'hang' } }), out);
    await until(run, () => existsSync(join(out, 'manifest.json')), 'the manifest');
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(143);
    expect(manifestIn(out)).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', cycles_completed: 0 });
    expect(manifestIn(out).error).toBe('killed: SIGTERM came during setup, before the first cycle');
    expect(cyclesOf(csvIn(out))).toEqual([]);
  });

  it('while the scenario loads, writes nothing', async (test) => {
    const dir = tempDir();
    // The plug-in says when loading has begun, then never finishes loading.
    writeFileSync(join(dir, 'forever.mjs'), "import { writeFileSync } from 'node:fs';\nwriteFileSync(new URL('./loading', import.meta.url), '');\nfor (;;) {}\n");
    const file = join(dir, 'loading.yaml');
    writeFileSync(file, 'size: 10\ncycles: 1\nplugins: [./forever.mjs]\nprotocols: { o: { type: oracle } }\n');
    const out = join(dir, 'out');
    const run = start(test, file, out);
    await until(run, () => existsSync(join(dir, 'loading')), 'the plug-in to load');
    run.child.kill('SIGINT');
    const { code, stderr } = await run.exited;
    expect(code).toBe(130);
    expect(stderr).toContain('nothing was written');
    expect(existsSync(out)).toBe(false);
  });
});

describe('pcsim run, ending', () => {
  it('exits once the run is done, even with a timer a plug-in left running', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, faultyScenario({ linger: { type: 'linger' } }), out);
    const { code, stderr } = await run.exited;
    expect(code, stderr).toBe(0);
    expect(manifestIn(out)).toMatchObject({ status: 'completed', cycles_completed: 10 });
  });

  it('refuses --force on a folder whose run is still going, leaving that run alone', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, scenarioFile(long), out);
    await until(run, () => existsSync(join(out, 'manifest.json')), 'the manifest');
    expect(manifestIn(out)).toMatchObject({ status: 'running', pid: run.child.pid, nonce: expect.any(String), host: expect.any(String) });
    const second = spawnSync(process.execPath, ['bin/pcsim.js', 'run', faultyScenario({}), '--out', out, '--force'], { encoding: 'utf8' });
    expect(second.status).toBe(2);
    expect(second.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^pcsim: ${out}: is in use by another pcsim \\(pid ${run.child.pid} on this host, since [^)]+\\); wait for it to end$`))]);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(130);
    expect(manifestIn(out)).toMatchObject({ status: 'interrupted', scenario: { name: 'long' } });
  });

  it.runIf(process.platform === 'linux')('on a signal while a plug-in blocks in a system call as it loads, still ends the process', async (test) => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    writeFileSync(join(dir, 'stuck.mjs'), `import { readFileSync, writeFileSync } from 'node:fs';\nwriteFileSync(new URL('./loading', import.meta.url), '');\nreadFileSync(${JSON.stringify(fifo)});\n`);
    const file = join(dir, 'stuck.yaml');
    writeFileSync(file, 'size: 10\ncycles: 1\nplugins: [./stuck.mjs]\nprotocols: { o: { type: oracle } }\n');
    const out = join(dir, 'out');
    const run = start(test, file, out);
    await until(run, () => existsSync(join(dir, 'loading')), 'the plug-in to load');
    run.child.kill('SIGINT');
    const { code, signal, stderr } = await run.exited;
    expect([code, signal]).toEqual([null, 'SIGINT']);
    expect(stderr).toContain('nothing was written');
    expect(existsSync(out)).toBe(false);
  });
});

/*
 * Checkpoint and resume under signals. The scenarios are shipped ones, shrunk with
 * --set, plus the `pace` observer (test/checkpoint-plugin.ts), which sleeps 50 ms a
 * cycle in the run that is signalled (PCSIM_TEST_PACE_MS) and not at all otherwise:
 * the signal comes long before that run could end, and the rest is quick.
 */
describe('pcsim run, signalled, then resumed', () => {
  const plugin = writeTallyPlugin(tempDir());
  const paced = { PCSIM_TEST_PACE_MS: '50' };
  const scenarios = {
    cycle: ['scenarios/cyclon.yaml', 'size=1000', 'cycles=50', 'observers.overlay.sample=100'],
    // Latency 10-100 ms with 1 s periods: shuffles in flight at every period's end.
    event: ['scenarios/event-cyclon.yaml', 'size=1000', 'cycles=50', 'observers.overlay.every=1', 'observers.overlay.sample=100'],
  };
  const runArgs = ([file, ...set]: readonly string[]) => [
    file, ...[...set, `plugins.0=${plugin}`, 'observers.pace={type: pace, ms: 0}'].flatMap((value) => ['--set', value]),
  ];
  const pcsim = (...args: string[]) => spawnSync(process.execPath, ['bin/pcsim.js', ...args], { encoding: 'utf8' });
  /** metrics.csv of the run uninterrupted. */
  const reference = (scenario: readonly string[]) => {
    const out = join(tempDir(), 'reference');
    expect(pcsim('run', ...runArgs(scenario), '--out', out).status).toBe(0);
    return csvIn(out);
  };
  const hasManifest = (out: string, condition: (manifest: any) => boolean) => () => existsSync(join(out, 'manifest.json')) && condition(manifestIn(out));

  it.for(['cycle', 'event'] as const)('by SIGTERM leaves a checkpoint from which pcsim resume completes with the same metrics.csv (%s engine)', async (engine, test) => {
    const out = join(tempDir(), 'out');
    const run = startPcsim(test, ['run', ...runArgs(scenarios[engine]), '--out', out], paced);
    await until(run, hasManifest(out, (manifest) => manifest.cycles_completed >= 2), 'two cycles in the manifest');
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.exited;
    expect(code, stderr).toBe(143);
    const stopped = manifestIn(out);
    expect(stopped).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', error: null, checkpoint: { file: 'checkpoint', cycle: stopped.cycles_completed } });
    expect(stopped.cycles_completed).toBeLessThan(50);
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`; to go on from ${engine === 'event' ? 'period' : 'cycle'} ${stopped.cycles_completed}: pcsim resume ${out}$`))]);
    expect(headerIn(out)).toMatchObject({ cycle: stopped.cycles_completed, csv_bytes: stopped.csv_bytes });

    const resumed = pcsim('resume', out);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/^pcsim: completed: 50 (cycles|periods) in /);
    expect(csvIn(out)).toBe(reference(scenarios[engine]));
    expect(manifestIn(out)).toMatchObject({ status: 'completed', cycles_completed: 50, resumes: [{ from_cycle: stopped.cycles_completed }] });
  });

  it('by SIGINT, and its resume by SIGTERM, then resumed again to the same metrics.csv', async (test) => {
    const out = join(tempDir(), 'out');
    const run = startPcsim(test, ['run', ...runArgs(scenarios.cycle), '--out', out], paced);
    await until(run, hasManifest(out, (manifest) => manifest.cycles_completed >= 2), 'two cycles in the manifest');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(130);
    const first = manifestIn(out).checkpoint.cycle;
    const resume = startPcsim(test, ['resume', out], paced);
    await until(resume, hasManifest(out, (manifest) => manifest.resumes.length === 1 && manifest.cycles_completed >= first + 2), 'two cycles resumed');
    resume.child.kill('SIGTERM');
    expect((await resume.exited).code).toBe(143);
    const second = manifestIn(out);
    expect(second).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', checkpoint: { cycle: second.cycles_completed } });
    expect(pcsim('resume', out).status).toBe(0);
    expect(csvIn(out)).toBe(reference(scenarios.cycle));
    expect(manifestIn(out).resumes.map((part: { from_cycle: number }) => part.from_cycle)).toEqual([first, second.cycles_completed]);
  });

  it('keeps the last periodic checkpoint when the grace period runs out and the run is ended at once', async (test) => {
    const out = join(tempDir(), 'out');
    const run = start(test, faultyScenario({ spin: { type: 'spin', from: 5 } }), out, '--checkpoint-every', '2', '--grace', '0.3');
    await until(run, hasManifest(out, (manifest) => manifest.checkpoint?.cycle === 4), 'the checkpoint of cycle 4');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(143);
    expect(manifestIn(out)).toMatchObject({
      status: 'interrupted', cycles_completed: 4, checkpoint: { cycle: 4 }, error: 'killed: the cycle did not end within 0.3 s of SIGTERM',
    });
    expect(headerIn(out).cycle).toBe(4);
    expect(existsSync(join(out, 'checkpoint.tmp'))).toBe(false);
  });

  it('does not count a periodic checkpoint under way when the signal comes against the grace period', async (test) => {
    const dir = tempDir();
    const marker = join(dir, 'saving');
    writeSlowSavePlugin(dir);
    const file = join(dir, 'slow.yaml');
    writeFileSync(file, `size: 100\ncycles: 10\nplugins: [./slow-save.mjs]\nprotocols: { cyclon: { type: cyclon, cache: 8, shuffle: 3 } }\nobservers: { slow: { type: slowsave, marker: ${JSON.stringify(marker)} } }\n`);
    const out = join(dir, 'out');
    // The checkpoint of cycle 2 takes 1.5 s to write; the grace period is 0.3 s.
    const run = startPcsim(test, ['run', file, '--out', out, '--checkpoint-every', '2', '--grace', '0.3'], { PCSIM_TEST_SLOW_SAVE_MS: '1500' });
    await until(run, () => existsSync(marker), 'the checkpoint of cycle 2 to be under way');
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.exited;
    expect(code, stderr).toBe(143);
    expect(manifestIn(out)).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', error: null, cycles_completed: 2, checkpoint: { cycle: 2 } });
    expect(stderr).toMatch(/; to go on from cycle 2: pcsim resume /);
    expect(headerIn(out).cycle).toBe(2);
  });
});

describe('pcsim resume, raced', () => {
  const plugin = writeTallyPlugin(tempDir());
  const args = ['scenarios/cyclon.yaml', ...['size=1000', 'cycles=40', 'observers.overlay.sample=100', `plugins.0=${plugin}`, 'observers.pace={type: pace, ms: 0}'].flatMap((value) => ['--set', value])];
  const pcsim = (...more: string[]) => spawnSync(process.execPath, ['bin/pcsim.js', ...more], { encoding: 'utf8' });
  let whole: string | undefined;
  const reference = () => {
    if (whole === undefined) {
      const out = join(tempDir(), 'reference');
      expect(pcsim('run', ...args, '--out', out).status).toBe(0);
      whole = csvIn(out);
    }
    return whole;
  };
  /** A run stopped by SIGTERM after cycle 2 (paced, 50 ms a cycle). */
  async function stopped(test: TestContext): Promise<string> {
    const out = join(tempDir(), 'out');
    const run = startPcsim(test, ['run', ...args, '--out', out], { PCSIM_TEST_PACE_MS: '50' });
    await until(run, () => existsSync(join(out, 'manifest.json')) && manifestIn(out).cycles_completed >= 2, 'two cycles in the manifest');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(143);
    return out;
  }
  const inUse = (out: string, pid: number) => new RegExp(`^pcsim: ${out}: is in use by another pcsim \\(pid ${pid} on this host, since [^)]+\\); wait for it to end$`);

  it('refuses a second resume, or a run with --force, while one holds the folder: one line, exit code 2, nothing changed', async (test) => {
    const out = await stopped(test);
    // 38 cycles of 120 ms: the others come long before it ends.
    const first = startPcsim(test, ['resume', out], { PCSIM_TEST_PACE_MS: '120' });
    await until(first, () => existsSync(join(out, 'pcsim.lock')), 'the first resume to hold the folder');
    const others = [startPcsim(test, ['resume', out]), startPcsim(test, ['run', ...args, '--out', out, '--force'])];
    for (const other of await Promise.all(others.map((started) => started.exited))) {
      expect(other.code, other.stderr).toBe(2);
      expect(other.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(inUse(out, first.child.pid!))]);
    }
    expect(first.child.exitCode).toBe(null);
    const { code, stderr } = await first.exited;
    expect(code, stderr).toBe(0);
    expect(csvIn(out)).toBe(reference());
    expect(manifestIn(out).resumes).toHaveLength(1);
    expect(existsSync(join(out, 'pcsim.lock'))).toBe(false);
  });

  it('lets one of two resumes started together go on, and refuses the other', async (test) => {
    const out = await stopped(test);
    const both = [startPcsim(test, ['resume', out], { PCSIM_TEST_PACE_MS: '20' }), startPcsim(test, ['resume', out], { PCSIM_TEST_PACE_MS: '20' })];
    const ended = await Promise.all(both.map((resume) => resume.exited));
    expect(ended.map((end) => end.code).sort()).toEqual([0, 2]);
    const refused = ended.find((end) => end.code === 2)!;
    const winner = both[ended.findIndex((end) => end.code === 0)];
    expect(refused.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(inUse(out, winner.child.pid!))]);
    expect(csvIn(out)).toBe(reference());
    expect(manifestIn(out).resumes).toHaveLength(1);
  });
});
