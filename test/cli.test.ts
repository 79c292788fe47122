import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pcsim-cli-'));
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
    expectOneLineError(pcsim('validate', path, '--set', 'protocols.newscast.cache=4'), '--set: protocols.newscast.cache: unknown key path');
  });

  it('rejects an unknown protocol type, listing the known ones', () => {
    const path = file('type.yaml', good.replace('type: cyclon', 'type: cyclone'));
    expectOneLineError(pcsim('validate', path), 'protocols.cyclon.type: expected a protocol type ("cyclon", "oracle"');
  });

  it('rejects an unknown command-line option', () => {
    expectOneLineError(pcsim('run', file('good2.yaml', good), '--sed', '3'), 'Unknown argument');
  });
});

describe('pcsim command line', () => {
  it('validates a good scenario', () => {
    const result = pcsim('validate', file('fine.yaml', good));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid (100 nodes, 2 cycles');
  });

  it('lists protocols and observers with their parameters and defaults', () => {
    const result = pcsim('list');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cyclon - ');
    expect(result.stdout).toContain('cache: integer (default 20)');
    expect(result.stdout).toContain('overlay - ');
    expect(result.stdout).toContain('every: integer - run every this many cycles (event engine: ms); default: every cycle (event engine: every period, or every ms for sessions and trace)');
  });

  it('prints no progress bar when stderr is not a terminal', () => {
    const result = pcsim('run', file('quiet.yaml', good), '--out', join(dir, 'quiet'));
    expect(result.code).toBe(0);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('completed: 2 cycles');
  });
});
