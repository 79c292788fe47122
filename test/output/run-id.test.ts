import { describe, expect, it } from 'vitest';
import { canonicalJson, defaultOutputFolder, runId, safeFolderName } from '../../src/output/run-id.js';
import { loadScenario } from '../../src/index.js';
import { scenarioFile } from '../helpers.js';

const base = {
  name: 'sweep', seed: 3, size: 50, cycles: 2,
  protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
  observers: { overlay: { type: 'overlay', sample: 10, sources: 1 } },
};

describe('default output folders', () => {
  it('tell runs with different overrides or seeds apart, and give the same run the same folder', async () => {
    const file = scenarioFile(base);
    const folderOf = async (options: { set?: string[]; seed?: number }) => defaultOutputFolder((await loadScenario(file, options)).scenario);
    const plain = await folderOf({});
    expect(plain).toMatch(/^results[/\\]sweep-seed3-[0-9a-f]{8}$/);
    expect(await folderOf({})).toBe(plain);
    const shuffled = await folderOf({ set: ['protocols.cyclon.shuffle=4'] });
    const shuffledMore = await folderOf({ set: ['protocols.cyclon.shuffle=5'] });
    expect(new Set([plain, shuffled, shuffledMore]).size).toBe(3);
    expect(await folderOf({ seed: 4 })).toMatch(/sweep-seed4-/);
    // Setting a key to the value it has already is the same run.
    expect(await folderOf({ set: ['protocols.cyclon.shuffle=3'] })).toBe(plain);
  });

  it('do not depend on where the scenario file is', async () => {
    const here = (await loadScenario(scenarioFile(base))).scenario;
    const there = (await loadScenario(scenarioFile(base))).scenario;
    expect(here.dir).not.toBe(there.dir);
    expect(runId(here)).toBe(runId(there));
  });

  it('keep a name set on the command line inside results/', async () => {
    const { scenario } = await loadScenario(scenarioFile(base), { set: ['name=../../x'] });
    expect(defaultOutputFolder(scenario)).toMatch(/^results[/\\]_\.\._x-seed3-[0-9a-f]{8}$/);
  });

  it('make any name one safe folder name', () => {
    for (const name of ['../../x', '..', '.hidden', '/etc/passwd', 'a/b\\c', '', 'ok-name_1.2']) {
      const folder = safeFolderName(name);
      // One path component, never `.` or `..`, never hidden.
      expect(folder).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
    }
    expect(safeFolderName('../../x')).toBe('_.._x');
    expect(safeFolderName('ok-name_1.2')).toBe('ok-name_1.2');
    expect(safeFolderName('')).toBe('run');
    expect(safeFolderName('x'.repeat(500))).toHaveLength(100);
  });

  it('hash a canonical form: key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, { e: 0, f: 1 }] }, b: 1 }));
  });
});
