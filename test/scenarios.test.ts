import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/engine/simulation.js';
import { loadScenario } from '../src/index.js';

const shipped = readdirSync('scenarios').filter((file) => file.endsWith('.yaml'));

describe('shipped scenarios', () => {
  it.each(shipped)('%s loads and builds (at 200 nodes)', async (file) => {
    const { scenario, registry } = await loadScenario(`scenarios/${file}`, { set: ['size=200'] });
    expect(new Simulation(scenario, registry).store.size).toBeGreaterThan(0);
  });
});
