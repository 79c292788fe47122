import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/engine/errors.js';
import { loadScenario } from '../../src/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('pcsim-loader-');
const good = 'name: ok\nsize: 100\ncycles: 2\nprotocols:\n  cyclon: { type: cyclon, cache: 8, shuffle: 3 }\n';

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The one-line message of the ScenarioError that loading throws, with the folder replaced by DIR. */
async function errorOf(path: string, set?: string[]): Promise<string> {
  try {
    await loadScenario(path, { set });
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message.replaceAll(dir, 'DIR');
  }
  return 'no error';
}

describe('the scenario loader, on YAML that is not plain data', () => {
  it('refuses an alias with no anchor before it, naming its line', async () => {
    expect(await errorOf(file('undefined-alias.yaml', `${good}observers: *nope\n`))).toBe('DIR/undefined-alias.yaml:6: YAML alias *nope names no anchor &nope defined before it');
    expect(await errorOf(file('alias-first.yaml', `${good}observers: *later\ncontrols: &later {}\n`))).toMatch(/^DIR\/alias-first\.yaml:6: YAML alias \*later names no anchor/);
  });

  it('refuses an alias bomb quickly', async () => {
    const levels = Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const started = performance.now();
    const message = await errorOf(file('bomb.yaml', `${good}l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n${levels.join('\n')}\n`));
    expect(message).toMatch(/^DIR\/bomb\.yaml:\d+: YAML aliases expand to more than 100,000 values/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('copies what an alias names, so that one --set never changes another instance', async () => {
    const path = file('aliases.yaml', 'size: 50\ncycles: 1\nprotocols:\n  oracle: { type: oracle }\n  a: &avg { type: aggregation, init: { kind: peak } }\n  b: *avg\n');
    const { scenario } = await loadScenario(path, { set: ['protocols.b.init.kind=uniform'] });
    expect([scenario.protocols.a.params.init, scenario.protocols.b.params.init]).toEqual([{ kind: 'peak' }, { kind: 'uniform', a: 0, b: 1 }]);
  });

  it('refuses prototype keys in the file and in --set paths, touching no prototype', async () => {
    expect(await errorOf(file('proto.yaml', `${good}__proto__: { size: 5 }\n`))).toBe('DIR/proto.yaml:6: unknown key "__proto__" (a reserved name)');
    expect(await errorOf(file('ctor.yaml', good.replace('cyclon: {', 'constructor: {')))).toBe('DIR/ctor.yaml:5: unknown key "constructor" (a reserved name)');
    const path = file('fine.yaml', good);
    expect(await errorOf(path, ['__proto__.size=5'])).toBe('--set: __proto__.size: unknown key "__proto__" (a reserved name)');
    expect(await errorOf(path, ['protocols.cyclon.prototype=1'])).toBe('--set: protocols.cyclon.prototype: unknown key "prototype" (a reserved name)');
    expect(await errorOf(path, ['observers={__proto__: {x: 1}}'])).toMatch(/^--set: observers: expected a YAML value, found .* \(unknown key "__proto__" \(a reserved name\)\)$/);
    expect(({} as Record<string, unknown>).size).toBeUndefined();
  });

  it('refuses a duplicate key, naming the duplicate\'s line', async () => {
    expect(await errorOf(file('dup.yaml', `${good}size: 3\n`))).toBe('DIR/dup.yaml:6: duplicate key "size"');
    expect(await errorOf(file('dup-nested.yaml', good.replace('cache: 8,', 'cache: 8, cache: 9,')))).toBe('DIR/dup-nested.yaml:5: duplicate key "cache"');
  });

  it('refuses more than one document, keys that are not names, and nesting without end', async () => {
    expect(await errorOf(file('two.yaml', `${good}---\nsize: 5\n`))).toBe('DIR/two.yaml:6: expected one YAML document, found 2 (separated by ---)');
    expect(await errorOf(file('complex-key.yaml', `${good}? [a, b]\n: 1\n`))).toBe('DIR/complex-key.yaml:6: expected a plain key (a name), found a list');
    expect(await errorOf(file('deep.yaml', `${good}x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`))).toMatch(/^DIR\/deep\.yaml:6: expected data nested at most 100 levels deep$/);
  });
});

describe('the scenario loader, on bytes and files', () => {
  it('accepts a UTF-8 byte order mark', async () => {
    expect((await loadScenario(file('bom.yaml', `\ufeff${good}`))).scenario.size).toBe(100);
  });

  it('refuses bytes that are not UTF-8, naming the byte and its line', async () => {
    const latin1 = Buffer.concat([Buffer.from(`${good}# caf`), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(await errorOf(file('latin1.yaml', latin1))).toBe('DIR/latin1.yaml:6: not UTF-8 text (byte 0xe9 at line 6)');
    expect(await errorOf(file('utf16.yaml', Buffer.from(`\ufeff${good}`, 'utf16le')))).toBe('DIR/utf16.yaml:1: not UTF-8 text (it is UTF-16: save it as UTF-8)');
  });

  it('refuses a FIFO, a folder and a device without reading (nothing blocks)', async () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(await errorOf(fifo)).toBe('DIR/fifo.yaml: expected a regular file, found a FIFO');
    expect(await errorOf(dir)).toBe('DIR: expected a regular file, found a directory');
    expect(await errorOf('/dev/zero')).toBe('/dev/zero: expected a regular file, found a character device');
    expect(await errorOf(join(dir, 'missing.yaml'))).toBe('DIR/missing.yaml: file not found');
  });

  // Generous bounds (this machine is shared): the quadratic duplicate check took 9 s at
  // 20,000 keys and 88 s at 80,000, so 40,000 would take about 35 s.
  it('reads a large file in linear time: 80,000 keys are refused at once for size, 40,000 read in seconds', async () => {
    const keys = (n: number) => `${good}${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n')}\n`;
    let started = performance.now();
    expect(await errorOf(file('huge.yaml', keys(80_000)))).toMatch(/^DIR\/huge\.yaml: expected a file of at most 1,048,576 bytes, found 1,\d{3},\d{3} bytes$/);
    expect(performance.now() - started).toBeLessThan(2000);
    // Duplicates are found with a set per mapping: the last of 40,000 keys costs no more than the first.
    started = performance.now();
    expect(await errorOf(file('many.yaml', `${keys(40_000)}k39999: 1\n`))).toBe('DIR/many.yaml:40006: duplicate key "k39999"');
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
