import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openCheckpoint, writeCheckpoint } from '../src/output/checkpoint.js';
import { pcsimVersion } from '../src/version.js';

/*
 * Runs this file starts in-process use pcsim's dist/ (the build the pcsim command
 * runs), not its sources: a checkpoint is resumed only by the build that wrote it.
 */
const { runScenario } = await import(new URL('../dist/index.js', import.meta.url).href) as typeof import('../src/index.js');

const dir = mkdtempSync(join(tmpdir(), 'pcsim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function pcsim(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/pcsim.js', ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const good = `name: ok
size: 100
cycles: 2
protocols:
  cyclon: { type: cyclon, cache: 8, shuffle: 3 }
observers:
  overlay: { type: overlay, sample: 10, sources: 1 }
`;

/** Bad input: exit code 2 and exactly one line on stderr, with no stack trace. */
function expectOneLineError(result: ReturnType<typeof pcsim>, ...fragments: string[]) {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\n\s+at /);
  for (const fragment of fragments) expect(lines[0]).toContain(fragment);
}

describe('pcsim command line, on bad input', () => {
  it('rejects a value of the wrong type, naming file, line and key path', () => {
    const path = file('wrong-type.yaml', good.replace('cache: 8', 'cache: eight'));
    expectOneLineError(pcsim('validate', path), `${path}:5: protocols.cyclon.cache: expected a number, found "eight"`);
  });

  it('rejects an unknown key', () => {
    const path = file('unknown-key.yaml', good.replace('shuffle: 3', 'shufle: 3'));
    expectOneLineError(pcsim('run', path, '--out', join(dir, 'out')), path, 'protocols.cyclon.shufle: unknown key (expected one of: type, cache, shuffle, init, join, ageing, duplicates, busy); did you mean shuffle?');
  });

  it('rejects an unknown top-level key', () => {
    const path = file('unknown-top.yaml', `${good}sizee: 3\n`);
    expectOneLineError(pcsim('validate', path), `${path}:8: sizee: unknown key`);
  });

  it('rejects a missing file', () => {
    expectOneLineError(pcsim('run', join(dir, 'nope.yaml')), 'nope.yaml: file not found');
  });

  it('rejects a YAML syntax error with its line and column', () => {
    const path = file('syntax.yaml', good.replace('cache: 8, shuffle: 3 }', 'cache: 8, shuffle: 3'));
    expectOneLineError(pcsim('validate', path), `${path}:`, 'YAML syntax error');
  });

  it('rejects a negative size', () => {
    const path = file('negative.yaml', good.replace('size: 100', 'size: -5'));
    expectOneLineError(pcsim('validate', path), `${path}:2: size: expected a value > 0, found -5`);
  });

  it('rejects a cache larger than the network', () => {
    const path = file('big-cache.yaml', good.replace('size: 100', 'size: 5'));
    expectOneLineError(pcsim('validate', path), `${path}:5: protocols.cyclon.cache: expected a cache smaller than the network (size 5), found 8`);
  });

  it('rejects an unknown --set path', () => {
    const path = file('good.yaml', good);
    expectOneLineError(pcsim('validate', path, '--set', 'protocols.cyclon.cahce=4'), '--set: protocols.cyclon.cahce: unknown key');
    expectOneLineError(pcsim('validate', path, '--set', 'protocols.newscast.cache=4'), '--set: protocols.newscast.type: expected a protocol type');
  });

  it('rejects an unknown protocol type, listing the known ones', () => {
    const path = file('type.yaml', good.replace('type: cyclon', 'type: cyclone'));
    expectOneLineError(pcsim('validate', path), 'protocols.cyclon.type: expected a protocol type ("cyclon", "oracle"');
  });

  it('rejects an unknown option, suggesting the one meant', () => {
    expectOneLineError(pcsim('run', file('good2.yaml', good), '--sed', '3'), 'unknown option --sed (did you mean --seed?)');
  });

  it('rejects an option with no value, or given twice, rather than ignoring it or keeping one silently', () => {
    const path = file('good3.yaml', good);
    expectOneLineError(pcsim('validate', path, '--seed'), '--seed needs a value');
    expectOneLineError(pcsim('validate', path, '--seed', '1', '--seed', '2'), '--seed: expected one value, found 2: 1, 2');
    expectOneLineError(pcsim('run', path, '--out', join(dir, 'o1'), '--out', join(dir, 'o2')), '--out: expected one value, found 2');
  });

  it('rejects an unknown command, suggesting the one meant', () => {
    expectOneLineError(pcsim('valdate', 'x.yaml'), 'unknown command "valdate" (did you mean validate?)');
    expectOneLineError(pcsim('frobnicate'), 'unknown command "frobnicate" (expected run, resume, validate, list, schema, plan, sweep, merge, plot, check, diff)');
  });

  it('rejects a --checkpoint-every that is not a whole number of cycles from 1 to 2^50, as the library does', () => {
    const path = file('good5.yaml', good);
    for (const every of ['0', '1.5', String(2 ** 50 + 2)]) {
      expectOneLineError(pcsim('run', path, '--out', join(dir, 'never'), '--checkpoint-every', every), `--checkpoint-every: expected a whole number of cycles from 1 to 2^50, found ${Number(every)}`);
    }
    expectOneLineError(pcsim('resume', join(dir, 'never'), '--checkpoint-every', '0'), '--checkpoint-every: expected a whole number of cycles from 1 to 2^50, found 0');
    expectOneLineError(pcsim('run', path, '--checkpoint-every', '1', '--checkpoint-every', '2'), '--checkpoint-every: expected one value, found 2');
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('rejects resume without a folder', () => {
    expectOneLineError(pcsim('resume'), 'resume: name the folder of a run (pcsim resume <dir>)');
  });

  it('rejects --set with no value, and a second scenario', () => {
    expectOneLineError(pcsim('validate', file('good3.yaml', good), '--set'), '--set needs a value');
    expectOneLineError(pcsim('validate', file('good4.yaml', good), 'other.yaml'), 'unexpected argument "other.yaml"');
  });
});

describe('pcsim command line', () => {
  it('validates a good scenario', () => {
    const result = pcsim('validate', file('fine.yaml', good));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid (100 nodes, 2 cycles');
  });

  it('takes exactly one value per --set, so the scenario path after it stays the scenario', () => {
    const result = pcsim('validate', '--set', 'size=50', '--set', 'cycles=3', file('set-first.yaml', good));
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('valid (50 nodes, 3 cycles');
  });

  it('lists scenario keys, distributions and latency models too', () => {
    const { code, stdout } = pcsim('list');
    expect(code).toBe(0);
    expect(stdout).toContain('scenario keys:\n  name: string');
    expect(stdout).toContain('  size: integer (required) - number of nodes at the start');
    expect(stdout).toContain('  event.period: integer (default 1000)');
    expect(stdout).toContain('attribute distributions (attributes.NAME: {dist: ..., parameters}):');
    expect(stdout).toMatch(/\n {2}pareto\n {4}alpha: number \(required\) - shape\n {4}xm: number \(default 1\)/);
    expect(stdout).toContain('latency models (transport.latency: {model: ..., parameters}; event engine):');
    expect(stdout).toMatch(/\n {2}coordinates\n {4}base: number \(default 0\)/);
  });

  it('writes a JSON Schema that accepts every shipped scenario and rejects a misspelt key', () => {
    const out = join(dir, 'pcsim.schema.json');
    const result = pcsim('schema', '--out', out, '--plugin', 'scenarios/plugins/rumour.ts', '--plugin', 'scenarios/plugins/informed.mjs');
    expect(result.code).toBe(0);
    const schema = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(schema);
    for (const name of readdirSync('scenarios').filter((f) => f.endsWith('.yaml'))) {
      const scenario = parse(readFileSync(join('scenarios', name), 'utf8')) as unknown;
      expect(validate(scenario) ? name : `${name}: ${JSON.stringify(validate.errors?.[0])}`).toBe(name);
    }
    const base = { size: 10, cycles: 1, protocols: { c: { type: 'cyclon', cache: 5 } } };
    expect(validate({ ...base, observers: { o: { type: 'overlay', every: 2, sample: 5 } } })).toBe(true);
    expect(validate({ ...base, protocols: { c: { type: 'cyclon', cahce: 5 } } })).toBe(false);
    expect(validate({ ...base, observers: { o: { type: 'overlay', evry: 2 } } })).toBe(false);
    expect(validate({ ...base, protocols: { c: { type: 'cyclone' } } })).toBe(false);
    expect(validate({ ...base, attributes: { a: { dist: 'pareto' } } })).toBe(false);
  });

  it('writes the schema to standard output without --out', () => {
    const result = pcsim('schema');
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: { protocols: { additionalProperties: { oneOf: { properties: { type: { const: string } } }[] } } } };
    expect(schema.properties.protocols.additionalProperties.oneOf.map((block) => block.properties.type.const)).toContain('cyclon');
  });

  it('lists protocols and observers with their parameters and defaults', () => {
    const result = pcsim('list');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cyclon - ');
    expect(result.stdout).toContain('cache: integer (default 20)');
    expect(result.stdout).toContain('overlay - ');
    expect(result.stdout).toMatch(/\nschedule keys \(observers and controls\):\n {2}every: [^\n]*- run every /);
  });

  it('says in run --help which signals write a checkpoint', () => {
    const { code, stdout } = pcsim('run', '--help');
    expect(code).toBe(0);
    expect(stdout.replace(/\s+/g, ' ')).toContain('(SIGINT, SIGTERM and SIGHUP write one anyway)');
    expect(stdout.replace(/\s+/g, ' ')).toContain('after SIGINT, SIGTERM or SIGHUP');
  });

  it('prints no progress bar when stderr is not a terminal', () => {
    const result = pcsim('run', file('quiet.yaml', good), '--out', join(dir, 'quiet'));
    expect(result.code).toBe(0);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('completed: 2 cycles');
  });
});

describe('pcsim resume', () => {
  /** A run of `good` stopped after its first cycle, as a signal stops it; its scenario file and folder. */
  async function stopped(name: string) {
    const scenario = file(`${name}.yaml`, good.replace('cycles: 2', 'cycles: 6'));
    const out = join(dir, name);
    await runScenario(scenario, { out, shouldStop: () => 'SIGTERM' });
    return { scenario, out };
  }

  it('continues a stopped run to the end, to the metrics.csv of a run never stopped', async () => {
    const { scenario, out } = await stopped('resumable');
    const result = pcsim('resume', out, '--checkpoint-every', '2');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^pcsim: completed: 6 cycles in [\d.]+ s; results in /);
    expect(pcsim('run', scenario, '--out', join(dir, 'whole')).code).toBe(0);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8')).toBe(readFileSync(join(dir, 'whole', 'metrics.csv'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'completed', checkpoint_every: 2, checkpoint: { cycle: 4 }, resumes: [{ from_cycle: 0 }] });
  });

  it('writes checkpoints with run --checkpoint-every', () => {
    const out = join(dir, 'every');
    expect(pcsim('run', file('every.yaml', good.replace('cycles: 2', 'cycles: 7')), '--out', out, '--checkpoint-every', '3').code).toBe(0);
    const checkpoint = openCheckpoint(join(out, 'checkpoint'));
    checkpoint.close();
    expect(checkpoint.header.cycle).toBe(6);
  });

  it('refuses to run into the folder of an unfinished run, saying that pcsim resume continues it', async () => {
    const { scenario, out } = await stopped('unfinished');
    expectOneLineError(pcsim('run', scenario, '--out', out),
      `${out}: holds an unfinished run (metrics.csv, manifest.json, checkpoint: interrupted, 0 cycles): pcsim resume ${out} continues it from its checkpoint; --force replaces it, deleting the checkpoint; or choose another --out`);
  });

  it('refuses, in one line with exit code 2, a checkpoint whose state does not fit the run, changing nothing', async () => {
    const { out } = await stopped('unfit');
    const path = join(out, 'checkpoint');
    const checkpoint = openCheckpoint(path);
    writeCheckpoint(out, checkpoint.header, checkpoint.readSections().filter((section) => section.name !== 'protocols.cyclon/records'));
    const folder = () => readdirSync(out).sort().map((name) => [name, readFileSync(join(out, name), 'utf8')]);
    const before = folder();
    expectOneLineError(pcsim('resume', out), `${path}: does not fit the run its scenario builds (`, `); nothing in ${out} was changed`);
    expect(folder()).toEqual(before);
  });

  it.runIf(process.platform === 'linux')('goes on when a periodic checkpoint cannot be written, saying so once and recording it', () => {
    const out = join(dir, 'full');
    // A file size limit of 64 KiB: checkpoints of 2,000 nodes outgrow it (metrics.csv does not).
    const scenario = file('full.yaml', good.replace('size: 100', 'size: 2000').replace('cycles: 2', 'cycles: 6'));
    const result = spawnSync('bash', ['-c', 'ulimit -f 64; exec "$0" "$@"', process.execPath, 'bin/pcsim.js', 'run', scenario, '--out', out, '--checkpoint-every', '2'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`pcsim: warning: no checkpoint at cycle 2: cannot write ${join(out, 'checkpoint')} (EFBIG: file too large); the run goes on (there is no checkpoint yet; the manifest records the latest failure)`);
    expect(lines[1]).toMatch(/^pcsim: completed: 6 cycles in /);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'completed', checkpoint: null, checkpoint_error: `no checkpoint at cycle 4: cannot write ${join(out, 'checkpoint')} (EFBIG: file too large)` });
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'metrics.csv']);
  });

  it('refuses, in one line with exit code 2, a completed run', () => {
    const out = join(dir, 'done');
    expect(pcsim('run', file('done.yaml', good), '--out', out).code).toBe(0);
    expectOneLineError(pcsim('resume', out), `${out}: holds a completed run: there is nothing to resume`);
  });

  it('refuses, in one line with exit code 2, a checkpoint another version of pcsim wrote', async () => {
    const { out } = await stopped('old');
    const path = join(out, 'checkpoint');
    const checkpoint = openCheckpoint(path);
    writeCheckpoint(out, { ...checkpoint.header, pcsim: '0.0.1' }, checkpoint.readSections());
    expectOneLineError(pcsim('resume', out), `${path}: was written by pcsim 0.0.1; this is pcsim ${pcsimVersion}, which cannot resume it (use pcsim 0.0.1)`);
    const again = openCheckpoint(path);
    writeCheckpoint(out, { ...again.header, pcsim: pcsimVersion, build: 'e'.repeat(64) }, again.readSections());
    expectOneLineError(pcsim('resume', out), `${path}: was written by another build of pcsim ${pcsimVersion} (build eeeeeeeeeeee; this is build `, '), which alone can resume it');
  });

  it('refuses, in one line with exit code 2, a scenario that changed since the checkpoint, or is gone', async () => {
    const { scenario, out } = await stopped('changed');
    const text = readFileSync(scenario, 'utf8');
    writeFileSync(scenario, text.replace('cache: 8', 'cache: 9'));
    expectOneLineError(pcsim('resume', out), `${scenario}: has changed since the checkpoint (run id `, '): resuming needs the scenario as it was');
    renameSync(scenario, `${scenario}.moved`);
    expectOneLineError(pcsim('resume', out), `${out}: cannot resume: the scenario file ${scenario} is gone`);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ status: 'interrupted', resumes: [] });
  });
});
