import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/index.js';
import { scenarioFile } from './helpers.js';
import { readmeExample } from './readme-example.js';

const temp = mkdtempSync(join(tmpdir(), 'pcsim-plugin-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A folder of its own under the temporary one, with the given files. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** The checkout's pcsim command, run asynchronously so that independent cases overlap. */
function pcsim(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve('bin/pcsim.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const scenario = (plugins: string[], protocols = '  x: { type: x }\n') =>
  `size: 50\ncycles: 3\nplugins: [${plugins.join(', ')}]\nprotocols:\n${protocols}`;

describe('user protocols (plug-ins)', () => {
  it('load the example rumour plug-ins, run them, and write the observer\'s rows', async () => {
    const out = join(temp, 'rumour-out');
    const result = await runScenario('scenarios/rumour.yaml', { out, set: ['size=2000', 'cycles=15'] });
    expect(result.status).toBe('completed');
    const [header, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trimEnd().split('\n').map((line) => line.split(','));
    expect(header).toEqual(['scenario', 'seed', 'size', 'cycles', 'cycle', 'observer', 'metric', 'value']);
    const spread = rows.filter((row) => row[5] === 'spread' && row[6] === 'informed_fraction').map((row) => Number(row[7]));
    expect(spread).toHaveLength(16);
    expect(spread[0]).toBe(1 / 2000);
    expect(spread.at(-1)).toBeGreaterThan(0.99);
  });

  it('are the README\'s example, word for word', () => {
    const shipped: Record<string, string> = {
      'rumour.yaml': 'scenarios/rumour.yaml',
      'plugins/rumour.ts': 'scenarios/plugins/rumour.ts',
      'plugins/informed.mjs': 'scenarios/plugins/informed.mjs',
    };
    const readme = readmeExample().filter((file) => file.path in shipped);
    expect(readme.map((file) => file.path).sort()).toEqual(Object.keys(shipped).sort());
    for (const file of readme) expect(file.text).toBe(readFileSync(shipped[file.path], 'utf8'));
  });

  it('validate plug-in parameters like built-in ones', async () => {
    await expect(loadScenario('scenarios/rumour.yaml', { set: ['protocols.rumour.seeds=0'] }))
      .rejects.toThrow('--set: protocols.rumour.seeds: expected a value >= 1, found 0');
  });

  it('report a missing plug-in file with its key path', async () => {
    const file = scenarioFile({ size: 10, cycles: 1, plugins: ['./missing.ts'], protocols: { o: { type: 'oracle' } } });
    await expect(loadScenario(file)).rejects.toThrow(/plugins\.0: .*missing\.ts/);
  });
});

describe('a plug-in outside the checkout', () => {
  const plugin = (type: string) => `import { defineProtocol, z } from 'pcsim';
export default defineProtocol({
  type: '${type}', description: 'does nothing', params: z.strictObject({ n: z.number().default(1) }),
  create: () => ({ step() {} }),
});
`;

  it('imports pcsim with no node_modules and no package.json, as .ts, .mts and .mjs', async () => {
    const dir = folder('bare', {
      'a.ts': plugin('a'), 'b.mts': plugin('b'), 'c.mjs': plugin('c'),
      's.yaml': scenario(['./a.ts', './b.mts', './c.mjs'], '  a: { type: a }\n  b: { type: b }\n  c: { type: c }\n'),
    });
    const result = await pcsim(['validate', join(dir, 's.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('valid (50 nodes, 3 cycles, protocols: a, b, c;');
  });

  it('is an ES module even where a package.json does not say "type": "module"', async () => {
    // The case that failed with `No "exports" main defined`: pcsim installed beside a package.json without "type".
    const dir = folder('untyped', { 'package.json': '{ "name": "mine" }\n', 'a.ts': plugin('a'), 's.yaml': scenario(['./a.ts'], '  a: { type: a }\n') });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve('.'), join(dir, 'node_modules', 'pcsim'), 'dir');
    const result = await pcsim(['validate', join(dir, 's.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('valid');
  });
});

/**
 * A plug-in that throws `VALUE` (an Error by default) at the point `WHERE` names; line
 * 9 throws the Error. The same code as .ts (with a type) and .mjs: the .ts line must come
 * back through tsx's source map; the .mjs one starts no TypeScript compiler, so it is quicker.
 */
const failing = (typed: boolean) => `import { defineProtocol, z } from 'pcsim';
const where = process.env.WHERE;
const value = process.env.VALUE;

function fail(point${typed ? ': string' : ''}) {
  if (where !== point) return;
  if (value === 'undefined') throw undefined;
  if (value === 'null') throw null;
  throw new Error(\`failing at \${point}\`);
}
fail('load');
export default defineProtocol({
  type: 'x', description: 'fails on request', params: z.strictObject({}),
  create: () => {
    fail('create');
    return { init: () => fail('init'), step: () => fail('step') };
  },
});
`;

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string, ...fragments: string[]) {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const fragment of fragments) expect(lines[0]).toContain(fragment);
}

describe.concurrent('a plug-in that fails', () => {
  const dir = folder('failing', {
    'failing.ts': failing(true), 'failing.mjs': failing(false),
    'ts.yaml': scenario(['./failing.ts']), 'mjs.yaml': scenario(['./failing.mjs']),
  });
  // Failures while loading need no run (validate loads plug-ins too, and starts quicker).
  const run = (language: 'ts' | 'mjs', where: string, value = 'error') => pcsim(
    where === 'load' ? ['validate', join(dir, `${language}.yaml`)] : ['run', join(dir, `${language}.yaml`), '--out', join(dir, `out-${language}-${where}-${value}`)],
    { WHERE: where, VALUE: value },
  );

  it('while loading is bad input: exit 2, one line with the plug-in\'s file and line', async () => {
    const result = await run('ts', 'load');
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, 'plugins.0: cannot load plug-in', `failing at load (at ${join(dir, 'failing.ts')}:9)`);
  });

  it('with a syntax error is bad input, located in its source (.ts and .mjs)', async () => {
    const broken = folder('broken', {
      'a.ts': 'export const x: number = ;\n', 'b.mjs': 'export const x = ;\n',
      'a.yaml': scenario(['./a.ts']), 'b.yaml': scenario(['./b.mjs']),
    });
    const [ts, mjs] = await Promise.all([pcsim(['validate', join(broken, 'a.yaml')]), pcsim(['validate', join(broken, 'b.yaml')])]);
    expect([ts.code, mjs.code]).toEqual([2, 2]);
    expectOneLine(ts.stderr, 'SyntaxError', `(at ${join(broken, 'a.ts')}:1)`);
    expectOneLine(mjs.stderr, 'SyntaxError', `(at ${join(broken, 'b.mjs')}:1)`);
  });

  it('while the run is built (create) is bad input, with its file and line', async () => {
    const result = await run('mjs', 'create');
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, 'protocols.x', `failing at create (at ${join(dir, 'failing.mjs')}:9)`);
  });

  it('mid-run (step) fails the run: exit 1, one line with its .ts file and line', async () => {
    const result = await run('ts', 'step');
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, `failing at step (at ${join(dir, 'failing.ts')}:9)`);
  });

  it('fails whatever it throws: null or undefined, while loading or mid-run', async () => {
    const results = await Promise.all([run('mjs', 'load', 'null'), run('mjs', 'step', 'undefined'), run('mjs', 'step', 'null')]);
    expect(results.map((r) => r.code)).toEqual([2, 1, 1]);
    expectOneLine(results[0].stderr, 'plugins.0', 'null was thrown instead of an Error');
    expectOneLine(results[1].stderr, 'undefined was thrown instead of an Error');
    expectOneLine(results[2].stderr, 'null was thrown instead of an Error');
  });
});
