import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/builtins.js';
import { loadScenario } from '../../src/scenario/load.js';
import { Simulation } from '../../src/engine/simulation.js';
import { scenarioFile, tempDir } from '../helpers.js';

const dir = tempDir('pcsim-trace-');
function traceFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** For each cycle 0..cycles, the set of traced node indices that are live. */
async function liveByCycle(file: string, cycles: number, unit = 1): Promise<string[]> {
  const { scenario, registry } = await loadScenario(scenarioFile({
    seed: 1, size: 3, cycles,
    protocols: { cyclon: { type: 'cyclon', cache: 2, shuffle: 1 } },
    controls: { trace: { type: 'trace', file, unit } },
  }), { registry: builtinRegistry() });
  const simulation = new Simulation(scenario, registry);
  const ids = [0, 1, 2];
  const snapshot = () => ids.filter((id) => simulation.store.slotOf(id) >= 0).join('');
  const states = [snapshot()];
  while (!simulation.done) {
    simulation.runCycle(() => {});
    states.push(snapshot());
  }
  return states;
}

describe('trace replay', () => {
  // Node a: up [0,3) and [5,7); node b: up [2,6); node c: up [4,5) and [8,9).
  const avt = 'a 2 0 3 5 7\nb 1 2 6\nc 2 4 5 8 9\n';
  const expected = ['0', '0', '01', '1', '12', '01', '0', '', '2', ''];

  it('joins and leaves each node exactly when an .avt trace says', async () => {
    expect(await liveByCycle(traceFile('three.avt', avt), 9)).toEqual(expected);
  });

  it('reads the same trace from CSV', async () => {
    const csv = 'node,up_start,up_end\na,0,3\na,5,7\nb,2,6\nc,4,5\nc,8,9\n';
    expect(await liveByCycle(traceFile('three.csv', csv), 9)).toEqual(expected);
  });

  it('maps trace seconds to cycles with unit', async () => {
    const scaled = avt.replace(/\d+/g, (n) => String(Number(n) * 60)).replace(/^(\w) (\d+)/gm, (_, id, n) => `${id} ${Number(n) / 60}`);
    expect(await liveByCycle(traceFile('scaled.avt', scaled), 9, 60)).toEqual(expected);
  });

  it('names file and line of a malformed .avt line', async () => {
    const file = traceFile('bad.avt', 'a 2 0 3 5 7\nb 2 2 6\n');
    await expect(liveByCycle(file, 3)).rejects.toThrow(`${file}:2: expected 6 fields for n = 2 intervals, found 4`);
  });

  it('names file and line of a malformed CSV row', async () => {
    const file = traceFile('bad.csv', 'node,up_start,up_end\na,0,3\nb,x,6\n');
    await expect(liveByCycle(file, 3)).rejects.toThrow(`${file}:3: expected up_start as a non-negative number, found "x"`);
  });
});
