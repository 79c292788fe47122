import { describe, expect, it } from 'vitest';
import { simulate } from '../helpers.js';

/** A scenario whose one attribute is `region`; `extra` adds a control or a transport that names another. */
const base = (extra: Record<string, unknown>) => ({
  seed: 1, size: 20, cycles: 2,
  attributes: { region: { dist: 'discrete', values: [0, 1] } },
  protocols: { cyclon: { type: 'cyclon', cache: 4, shuffle: 2 } },
  ...extra,
});

describe('an attribute that the scenario does not declare', () => {
  it.each([
    ['a partition', { controls: { split: { type: 'partition', start: 1, groups: [[0], [1]], attribute: 'zone' } } }, 'controls.split.attribute'],
    ['an outage', { controls: { down: { type: 'outage', at: 1, region: 0, attribute: 'zone' } } }, 'controls.down.attribute'],
    ['sessions scaled by it', { controls: { s: { type: 'sessions', on: { dist: 'exponential', mean: 5 }, scaleBy: 'zone' } } }, 'controls.s.scaleBy'],
    ['region latencies', { engine: 'event', transport: { latency: { model: 'regions', matrix: [[10]], attribute: 'zone' } } }, 'transport.latency.attribute'],
  ])('is named with its key path when %s uses it', async (_what, extra, keyPath) => {
    await expect(simulate(base(extra))).rejects.toThrow(`${keyPath}: expected a declared attribute (region), found "zone"`);
  });
});

describe('a region latency matrix', () => {
  it('must be square and have a row for every region, named by key path', async () => {
    const regions = (matrix: number[][]) => base({ engine: 'event', transport: { latency: { model: 'regions', matrix } } });
    await expect(simulate(regions([[10, 20], [30]]))).rejects.toThrow('transport.latency.matrix.1: expected 2 columns (a square matrix), found 1');
    await expect(simulate(regions([[10]]))).rejects.toThrow('transport.latency.matrix: expected a row for every region value of attribute "region" (0..0), found region 1');
    await expect(simulate(regions([[10, 20], [30, 40]]))).resolves.toBeDefined();
  });
});
