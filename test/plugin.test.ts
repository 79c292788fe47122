import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { scenarioFile } from './helpers.js';

describe('user protocols (plug-ins)', () => {
  it('load the example rumour plug-in, run it, and write its observer rows', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pcsim-plugin-'));
    const result = await runScenario('scenarios/rumour.yaml', { out, set: ['size=2000', 'cycles=15'] });
    expect(result.status).toBe('completed');
    const [header, ...rows] = readFileSync(join(out, 'metrics.csv'), 'utf8').trimEnd().split('\n').map((line) => line.split(','));
    expect(header).toEqual(['scenario', 'seed', 'size', 'cycles', 'cycle', 'observer', 'metric', 'value']);
    const spread = rows.filter((row) => row[5] === 'spread' && row[6] === 'informed_fraction').map((row) => Number(row[7]));
    expect(spread).toHaveLength(16);
    expect(spread[0]).toBe(1 / 2000);
    expect(spread.at(-1)).toBeGreaterThan(0.99);
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
