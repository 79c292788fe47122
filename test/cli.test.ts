import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openCheckpoint, writeCheckpoint } from '../src/output/checkpoint.js';
import { runScenario } from '../src/run.js';
import { pcsimVersion } from '../src/version.js';

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
    expectOneLineError(pcsim('run', path, '--out', join(dir, 'out')), path, 'protocols.cyclon.shufle: unknown key (expected one of: type, cache, shuffle, init, join)');
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
    expectOneLineError(pcsim('frobnicate'), 'unknown command "frobnicate" (expected run, resume, validate, list, schema)');
  });

  it('rejects a --checkpoint-every that is not a whole number of cycles, at least 1', () => {
    const path = file('good5.yaml', good);
    for (const every of ['0', '1.5']) {
      expectOneLineError(pcsim('run', path, '--out', join(dir, 'never'), '--checkpoint-every', every), `--checkpoint-every: expected a whole number of cycles, at least 1, found ${Number(every)}`);
    }
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
    expect(openCheckpoint(join(out, 'checkpoint')).header.cycle).toBe(6);
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
