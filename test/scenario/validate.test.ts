import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinRegistry } from '../../src/builtins.js';
import { defineProtocol } from '../../src/engine/protocol.js';
import { buildSimulation } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/engine/errors.js';
import { loadScenario } from '../../src/index.js';
import { validateScenario } from '../../src/scenario/validate.js';
import { measureBuild } from '../../src/scenario/memory.js';
import { Simulation } from '../../src/engine/simulation.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('pcsim-validate-');
const head = 'size: 100\ncycles: 3\nattributes:\n  load: { dist: uniform, min: 0, max: 1 }\nprotocols:\n  cyclon: { type: cyclon, cache: 8, shuffle: 3 }\n';

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** What validate says of `text`: its one-line error with the folder as DIR, or 'valid'. */
async function validated(text: string, set?: string[]): Promise<string> {
  const path = file('scenario.yaml', text);
  try {
    await validateScenario(path, { set, registry: builtinRegistry() });
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message.replaceAll(dir, 'DIR');
  }
  return 'valid';
}

describe('validate builds the run, and finds what run would', () => {
  it('an observer naming a protocol that does not exist, at the line of that key', async () => {
    expect(await validated(`${head}observers:\n  o: { type: overlay, protocol: cyclonn }\n`))
      .toBe('DIR/scenario.yaml:8: observers.o.protocol: expected the name of a protocol declared before it (cyclon), found "cyclonn"; did you mean cyclon?');
  });

  it('an aggregation with no protocol to sample peers from', async () => {
    expect(await validated('size: 100\ncycles: 3\nprotocols:\n  avg: { type: aggregation }\n'))
      .toBe('DIR/scenario.yaml:4: protocols.avg: needs a protocol with a neighbour list (e.g. cyclon) declared before it');
  });

  it('a slicing attribute that is not declared', async () => {
    expect(await validated(`${head}  s: { type: slicing, method: ranking, attribute: lod }\n`))
      .toMatch(/^DIR\/scenario\.yaml:7: protocols\.s\.attribute: expected a declared attribute \(load\), found "lod"/);
  });

  it('a trace file that is missing, not a file, or malformed', async () => {
    const trace = (name: string) => `${head}controls:\n  t: { type: trace, file: ${name} }\n`;
    expect(await validated(trace('none.avt'))).toBe('DIR/scenario.yaml:8: controls.t.file: trace DIR/none.avt: file not found');
    expect(await validated(trace('.'))).toBe('DIR/scenario.yaml:8: controls.t.file: trace DIR: expected a regular file, found a directory');
    file('bad.avt', 'a 1 0 5\nb 2 0 5\n');
    expect(await validated(trace('bad.avt'))).toBe('DIR/bad.avt:2: expected 6 fields for n = 2 intervals, found 4');
    file('big.avt', Array.from({ length: 150 }, (_, i) => `n${i} 1 0 5`).join('\n'));
    expect(await validated(trace('big.avt'))).toBe('DIR/scenario.yaml:8: controls.t.file: expected a trace of at most size (100) nodes, found 150: raise size to at least 150');
  });

  it('a size that cannot fit in memory, refused at once with the estimate', async () => {
    const started = performance.now();
    expect(await validated(head.replace('size: 100', 'size: 1000000000')))
      .toMatch(/^DIR\/scenario\.yaml:1: size: a run of 1,000,000,000 nodes needs about \d+ GB \(estimated from a 10,000-node build\); this machine has \d+ GB$/);
    expect(await validated(head, ['capacity=2000000000']))
      .toMatch(/^--set: capacity: a run with room for 2,000,000,000 nodes needs about \d+ GB/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await validated(head.replace('size: 100', 'size: 4294967296'))).toBe('DIR/scenario.yaml:1: size: expected a value <= 2147483647, found 4294967296');
  });

  it('and reports the memory of a run it accepts: measured when small, estimated from 10,000 nodes when large', async () => {
    const small = await validateScenario(file('small.yaml', head), { registry: builtinRegistry() });
    expect(small.measuredSlots).toBe(100);
    expect(small.estimateBytes).toBeGreaterThan(100 * 50);
    const large = await validateScenario(file('large.yaml', head.replace('size: 100', 'size: 200000')), { registry: builtinRegistry() });
    expect(large.measuredSlots).toBe(10_000);
    expect(large.lowerBound).toBe(false);
    expect(large.availableBytes).toBeGreaterThan(0);
    // Node state is typed arrays sized by the slots: the estimate is what the full build takes
    // (its attributes drawn, as a run that reads them draws them). Buffers of earlier tests in
    // this worker that are freed during a measurement can only lower it: the largest of three.
    const measure = () => measureBuild(() => { const simulation = new Simulation(large.scenario, large.loaded.registry); simulation.store.settleAttributes(); return simulation; }).bytes;
    const bytes = Math.max(measure(), measure(), measure());
    expect(Math.abs(large.estimateBytes / bytes - 1)).toBeLessThan(0.05);
  });
});

describe('building a run (run and validate alike)', () => {
  it('blames --set for a problem it caused while building', async () => {
    const loaded = await loadScenario(file('set.yaml', `${head}observers:\n  o: { type: overlay }\n`), { set: ['observers.o.protocol=nope'] });
    expect(() => buildSimulation(loaded)).toThrow(/^--set: observers\.o\.protocol: expected the name of a protocol declared before it \(cyclon\), found "nope"$/);
  });

  it('names the block of a plug-in whose state cannot be allocated, in one line', async () => {
    const greedy = defineProtocol({
      type: 'greedy', description: 'asks for more memory than a typed array may hold', params: z.strictObject({}),
      create: () => ({ state: new Float64Array(2 ** 40), step() {} }),
    });
    const path = file('greedy.yaml', 'size: 10\ncycles: 1\nprotocols:\n  g: { type: greedy }\n');
    const loaded = await loadScenario(path, { registry: builtinRegistry().register(greedy) });
    expect(() => buildSimulation(loaded)).toThrow(ScenarioError);
    expect(() => buildSimulation(loaded)).toThrow(new RegExp(`^${path}:4: protocols\\.g: .*Invalid typed array length`));
    expect(readFileSync(path, 'utf8')).toContain('greedy');
  });
});
