import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/engine/errors.js';
import { openCheckpoint, writeCheckpoint } from '../src/output/checkpoint.js';
import { resumeRun, runScenario, type RunOptions } from '../src/run.js';
import { pcsimBuild, pcsimVersion } from '../src/version.js';
import { writeTallyPlugin } from './checkpoint-plugin.js';
import { scenarioFile, tempDir } from './helpers.js';

/*
 * Checkpoint and resume through the library (runScenario, resumeRun), in this process:
 * a run stopped after cycle k (shouldStop, as a signal does) leaves a checkpoint, and
 * resuming it gives the metrics.csv of the uninterrupted run, byte for byte. The
 * `tally` plug-in (test/checkpoint-plugin.ts) keeps all its state in declarations;
 * the built-in scenarios check the built-ins'.
 */

const tallyCycle = {
  name: 'tally-cycle', seed: 3, size: 300, cycles: 12, plugins: ['./tally.mjs'],
  protocols: { tally: { type: 'tally' } },
  observers: { tally: { type: 'tally' } },
};
/** Latency up to almost two periods and loss: messages and timeouts in flight at every period's end. */
const tallyEvent = {
  ...tallyCycle, name: 'tally-event', engine: 'event', event: { period: 1000 },
  transport: { latency: { model: 'uniform', min: 10, max: 1900 }, loss: 0.1 },
};

/** A scenario file with the tally plug-in next to it. */
function tallyFile(scenario: Record<string, unknown>): string {
  const file = scenarioFile(scenario);
  writeTallyPlugin(join(file, '..'));
  return file;
}

const csvIn = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8');
const manifestIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
/** The header of DIR/checkpoint (the file closed again). */
function headerIn(dir: string) {
  const file = openCheckpoint(join(dir, 'checkpoint'));
  file.close();
  return file.header;
}
/** Every file of a folder and its content: to check that a refused resume changed nothing. */
const folderState = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));

async function uninterrupted(file: string, options: RunOptions = {}): Promise<string> {
  const dir = tempDir();
  await runScenario(file, { ...options, out: dir });
  return csvIn(dir);
}

/** Stops after `cycles` cycles (periods), as a SIGTERM then would. */
function stopAfter(cycles: number): Pick<RunOptions, 'onProgress' | 'shouldStop'> {
  let done = 0;
  return { onProgress: (progress) => { done = progress.cycles; }, shouldStop: () => done >= cycles && 'SIGTERM' };
}

async function interrupted(file: string, cycles: number, options: RunOptions = {}): Promise<string> {
  const dir = tempDir();
  const result = await runScenario(file, { ...options, ...stopAfter(cycles), out: dir });
  expect(result).toMatchObject({ status: 'interrupted', cycles });
  return dir;
}

describe('a run stopped after a cycle', () => {
  it.for([['cycle', tallyCycle], ['event', tallyEvent]] as const)('leaves a checkpoint from which it resumes to the same metrics.csv (%s engine)', async ([, scenario]) => {
    const file = tallyFile(scenario);
    const whole = await uninterrupted(file);
    for (const k of [0, 5, 11]) {
      const dir = await interrupted(file, k);
      expect(manifestIn(dir)).toMatchObject({ status: 'interrupted', interrupted_by: 'SIGTERM', checkpoint: { file: 'checkpoint', cycle: k }, resumes: [] });
      expect(headerIn(dir)).toMatchObject({ cycle: k, csv_bytes: Buffer.byteLength(csvIn(dir)), pcsim: pcsimVersion, build: pcsimBuild() });
      const result = await resumeRun(dir);
      expect(result).toMatchObject({ status: 'completed', cycles: 12 });
      expect(csvIn(dir), `stopped after ${k}`).toBe(whole);
      const manifest = manifestIn(dir);
      expect(manifest).toMatchObject({ status: 'completed', cycles_completed: 12, csv_bytes: Buffer.byteLength(whole), error: null, interrupted_by: null });
      expect(manifest.resumes).toEqual([{
        from_cycle: k, started: expect.any(String), pid: process.pid, host: hostname(), node: process.version,
        setup_seconds: expect.any(Number), wall_seconds_before: expect.any(Number),
      }]);
      expect(manifest.wall_seconds).toBeGreaterThanOrEqual(manifest.resumes[0].wall_seconds_before);
      // Seconds to the millisecond.
      for (const seconds of [manifest.wall_seconds, manifest.resumes[0].setup_seconds, manifest.resumes[0].wall_seconds_before]) {
        expect(Number(seconds.toFixed(3))).toBe(seconds);
      }
      expect(existsSync(join(dir, 'pcsim.lock'))).toBe(false);
    }
  });

  it('resumes again after its resumed part is stopped, with the --set overrides and --seed it was run with', async () => {
    const file = tallyFile(tallyEvent);
    const options = { set: ['size=200', 'transport.loss=0.2'], seed: 11 };
    const whole = await uninterrupted(file, options);
    const dir = await interrupted(file, 3, options);
    expect(await resumeRun(dir, stopAfter(7))).toMatchObject({ status: 'interrupted', cycles: 7 });
    expect(manifestIn(dir).checkpoint.cycle).toBe(7);
    await resumeRun(dir);
    expect(csvIn(dir)).toBe(whole);
    expect(manifestIn(dir).resumes.map((resume: { from_cycle: number }) => resume.from_cycle)).toEqual([3, 7]);
    expect(csvIn(dir).split('\n')[0]).toBe('scenario,seed,size,transport.loss,time,observer,metric,value');
  });
});

describe('--checkpoint-every', () => {
  it('writes a checkpoint after every N-th cycle once its rows are written, and none at the end', async () => {
    const file = tallyFile(tallyCycle);
    const dir = tempDir();
    const written: number[] = [];
    await runScenario(file, { out: dir, checkpointEvery: 3, onCheckpoint: ({ cycle, final }) => { written.push(cycle); expect(final).toBe(false); } });
    expect(written).toEqual([3, 6, 9]);
    const manifest = manifestIn(dir);
    expect(manifest).toMatchObject({ status: 'completed', checkpoint_every: 3, checkpoint: { cycle: 9, bytes: expect.any(Number), write_seconds: expect.any(Number) } });
    const header = headerIn(dir);
    expect(manifest.checkpoint.bytes).toBe(readFileSync(join(dir, 'checkpoint')).length);
    // Its csv_bytes ends exactly after cycle 9's rows.
    const rows = csvIn(dir).slice(0, header.csv_bytes).trimEnd().split('\n');
    expect(rows.at(-1)!.split(',')[2]).toBe('9');
    expect(csvIn(dir).slice(header.csv_bytes).split('\n')[0].split(',')[2]).toBe('10');
  });

  it('lets a run killed after its last checkpoint (its manifest still says running) resume from it', async () => {
    const file = tallyFile(tallyEvent);
    const whole = await uninterrupted(file);
    const dir = tempDir();
    await runScenario(file, { out: dir, checkpointEvery: 4 });
    // As after a SIGKILL in the last period: the checkpoint of period 8, rows past it, a manifest that says running, its process gone.
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifestIn(dir), status: 'running', pid: 2 ** 22 + 1, host: hostname() }));
    appendFileSync(join(dir, 'metrics.csv'), 'half a row');
    await resumeRun(dir);
    expect(csvIn(dir)).toBe(whole);
    expect(manifestIn(dir)).toMatchObject({ status: 'completed', checkpoint_every: 4, resumes: [{ from_cycle: 8 }] });
  });

  it('is a whole number of cycles, at least 1', async () => {
    for (const every of [0, -1, 1.5, Number.NaN]) {
      await expect(runScenario('never-read.yaml', { checkpointEvery: every })).rejects.toThrow(`--checkpoint-every: expected a whole number of cycles from 1 to 2^50, found ${every}`);
    }
  });
});

describe('resuming', () => {
  /** An interrupted run of the cycle-engine tally scenario, and its scenario file. */
  async function stopped() {
    const file = tallyFile(tallyCycle);
    return { file, dir: await interrupted(file, 4) };
  }
  const refused = async (dir: string, message: string) => {
    const error = await resumeRun(dir).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toBe(message);
  };

  it('is refused for a run that completed, a folder without a run or without a checkpoint', async () => {
    const file = tallyFile(tallyCycle);
    const done = tempDir();
    await runScenario(file, { out: done });
    await refused(done, `${done}: holds a completed run: there is nothing to resume`);
    const empty = tempDir();
    await refused(empty, `${empty}: holds no run to resume (no manifest.json)`);
    await refused(join(empty, 'nope'), `${join(empty, 'nope')}: not found (expected the folder of a run)`);
    const { dir } = await stopped();
    unlinkSync(join(dir, 'checkpoint'));
    await refused(dir, `${dir}: holds no checkpoint to resume from (a run writes one when SIGINT, SIGTERM or SIGHUP stops it, and with --checkpoint-every N)`);
  });

  it('is refused while the run is still going', async () => {
    const { dir } = await stopped();
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifestIn(dir), status: 'running', pid: process.pid, host: hostname() }));
    await refused(dir, `${dir}: holds a run that is still going (pid ${process.pid} on this host); wait for it to end or stop it, or choose another --out`);
  });

  it('is refused for a checkpoint another version or build of pcsim wrote', async () => {
    const { dir } = await stopped();
    const path = join(dir, 'checkpoint');
    const rewrite = (change: Record<string, string>) => {
      const checkpoint = openCheckpoint(path);
      writeCheckpoint(dir, { ...checkpoint.header, ...change }, checkpoint.readSections());
    };
    rewrite({ pcsim: '0.0.1' });
    await refused(dir, `${path}: was written by pcsim 0.0.1; this is pcsim ${pcsimVersion}, which cannot resume it (use pcsim 0.0.1)`);
    rewrite({ pcsim: pcsimVersion, build: 'f'.repeat(64) });
    await refused(dir, `${path}: was written by another build of pcsim ${pcsimVersion} (build ffffffffffff; this is build ${pcsimBuild().slice(0, 12)}), which alone can resume it`);
  });

  it('is refused when the scenario file changed, is gone, or a plug-in it loads changed', async () => {
    const { file, dir } = await stopped();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('cycles: 12', 'cycles: 13'));
    const error = await resumeRun(dir).then(() => undefined, (caught: Error) => caught);
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error!.message).toMatch(new RegExp(`^${file}: has changed since the checkpoint \\(run id ${manifestIn(dir).run_id}, now [0-9a-f]{8}\\): resuming needs the scenario as it was$`));
    writeFileSync(file, text);
    renameSync(file, `${file}.moved`);
    await refused(dir, `${dir}: cannot resume: the scenario file ${file} is gone`);
    renameSync(`${file}.moved`, file);
    const plugin = join(file, '..', 'tally.mjs');
    expect(headerIn(dir).inputs).toEqual({ [plugin]: expect.stringMatching(/^[0-9a-f]{64}$/) });
    appendFileSync(plugin, '// changed\n');
    await refused(dir, `${plugin}: has changed since the checkpoint, which the run read: resuming needs the file as it was`);
  });

  it('is refused when a trace file the run read changed or is gone, naming it', async () => {
    const folder = tempDir();
    const file = join(folder, 'trace.yaml');
    writeFileSync(file, readFileSync('scenarios/trace.yaml', 'utf8').replaceAll('traces/sample.avt', 'sample.avt').replace('cycles: 300', 'cycles: 20'));
    const trace = join(folder, 'sample.avt');
    copyFileSync('scenarios/traces/sample.avt', trace);
    const dir = await interrupted(file, 5);
    expect(Object.keys(headerIn(dir).inputs)).toEqual([trace]);
    const before = folderState(dir);
    appendFileSync(trace, '# one more line\n');
    await refused(dir, `${trace}: has changed since the checkpoint, which the run read: resuming needs the file as it was`);
    unlinkSync(trace);
    await refused(dir, `${trace}: cannot be read since the checkpoint, which the run read: resuming needs the file as it was`);
    expect(folderState(dir)).toEqual(before);
    copyFileSync('scenarios/traces/sample.avt', trace);
    await resumeRun(dir);
    expect(csvIn(dir)).toBe(await uninterrupted(file));
  });

  it('is refused for a damaged checkpoint, a metrics.csv that lost rows, or a checkpoint of another run', async () => {
    const { dir } = await stopped();
    const path = join(dir, 'checkpoint');
    const whole = readFileSync(path);
    const bytes = manifestIn(dir).checkpoint.bytes;
    truncateSync(path, bytes - 10);
    await refused(dir, `${path}: is truncated (${bytes - 10} of ${bytes} bytes)`);
    // One bit of a section's data flipped: found as the sections are read, before anything is changed.
    writeFileSync(path, whole);
    const header = headerIn(dir);
    const heard = header.sections.find((section) => section.name === 'protocols.tally/heard')!;
    const flipped = Buffer.from(whole);
    flipped[whole.length - 16 - header.data_bytes + heard.offset + 3] ^= 4;
    writeFileSync(path, flipped);
    const before = folderState(dir);
    await refused(dir, `${path}: is damaged (section "protocols.tally/heard" does not match its checksum); nothing in ${dir} was changed`);
    expect(folderState(dir)).toEqual(before);
    writeFileSync(path, whole);
    const csvBytes = headerIn(dir).csv_bytes;
    truncateSync(join(dir, 'metrics.csv'), csvBytes - 1);
    await refused(dir, `${join(dir, 'metrics.csv')}: holds ${csvBytes - 1} bytes, fewer than the ${csvBytes} the checkpoint counts: rows are missing, so the run cannot be resumed`);
    const other = await stopped();
    writeFileSync(path, readFileSync(join(other.dir, 'checkpoint')));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifestIn(dir), run_id: 'feedbeef' }));
    await refused(dir, `${path}: is of another run (run id ${manifestIn(other.dir).run_id}) than the folder's manifest.json (run id feedbeef)`);
  });

  it('is refused, changing nothing, when the state in the checkpoint does not fit the run; a good checkpoint then resumes', async () => {
    const { file, dir } = await stopped();
    const path = join(dir, 'checkpoint');
    const good = readFileSync(path);
    const checkpoint = openCheckpoint(path);
    const sections = checkpoint.readSections();
    for (const broken of [
      sections.filter((section) => section.name !== 'protocols.tally/heard'),
      // A state section that does not deserialise.
      sections.map((section) => (section.name === 'protocols.tally/stats' ? { ...section, bytes: new Uint8Array([0xff, 0x0f, 0x6f, 0x22]) } : section)),
    ]) {
      writeCheckpoint(dir, checkpoint.header, broken);
      // As a killed run leaves it: rows past the checkpoint, which a resume would cut off.
      appendFileSync(join(dir, 'metrics.csv'), 'half a row');
      const before = folderState(dir);
      await expect(resumeRun(dir)).rejects.toThrow(new RegExp(`^${path}: does not fit the run its scenario builds \\(.+\\); nothing in ${dir} was changed$`));
      expect(folderState(dir)).toEqual(before);
      expect(manifestIn(dir)).toMatchObject({ status: 'interrupted', resumes: [] });
    }
    writeFileSync(path, good);
    await resumeRun(dir);
    expect(csvIn(dir)).toBe(await uninterrupted(file));
    expect(manifestIn(dir)).toMatchObject({ status: 'completed', resumes: [{ from_cycle: 4 }] });
  });

  it('is refused, changing nothing, while another resume (or a run) holds the folder', async () => {
    const { file, dir } = await stopped();
    const before = folderState(dir);
    const first = resumeRun(dir);
    // The first holds the folder from its first step on: a second resume and a run with --force are turned away.
    const lockedBy = new RegExp(`^${dir}: is in use by another pcsim \\(pid ${process.pid} on this host, since [^)]+\\); wait for it to end$`);
    await expect(resumeRun(dir)).rejects.toThrow(lockedBy);
    await expect(runScenario(file, { out: dir, force: true })).rejects.toThrow(lockedBy);
    expect(await first).toMatchObject({ status: 'completed' });
    expect(csvIn(dir)).toBe(await uninterrupted(file));
    expect(manifestIn(dir).resumes).toHaveLength(1);
    expect(Object.keys(before)).toContain('checkpoint');
    expect(existsSync(join(dir, 'pcsim.lock'))).toBe(false);
  });

  it('leaves the folder as it was when refused', async () => {
    const { file, dir } = await stopped();
    const before = [csvIn(dir), readFileSync(join(dir, 'manifest.json'), 'utf8')];
    writeFileSync(file, readFileSync(file, 'utf8').replace('size: 300', 'size: 301'));
    await expect(resumeRun(dir)).rejects.toThrow('has changed since the checkpoint');
    expect([csvIn(dir), readFileSync(join(dir, 'manifest.json'), 'utf8')]).toEqual(before);
  });
});

describe('--force', () => {
  it('replaces a run with its checkpoint; without it, a folder holding only a checkpoint is refused', async () => {
    const file = tallyFile(tallyCycle);
    const dir = await interrupted(file, 2);
    unlinkSync(join(dir, 'metrics.csv'));
    unlinkSync(join(dir, 'manifest.json'));
    await expect(runScenario(file, { out: dir })).rejects.toThrow(`${dir}: holds a run already (checkpoint); pass --force to replace it, or choose another --out`);
    await runScenario(file, { out: dir, force: true });
    expect(existsSync(join(dir, 'checkpoint'))).toBe(false);
    expect(manifestIn(dir)).toMatchObject({ status: 'completed', checkpoint: null });
  });
});
