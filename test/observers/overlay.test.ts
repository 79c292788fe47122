import { describe, expect, it } from 'vitest';
import { collect, simulate } from '../helpers.js';

describe('overlay observer', () => {
  it('measures a ring lattice exactly (cycle 0 of a ring-initialised Cyclon)', async () => {
    const n = 1000, c = 4;
    const rows = collect(await simulate({
      seed: 1, size: n, cycles: 0,
      protocols: { cyclon: { type: 'cyclon', cache: c, shuffle: 2, init: { topology: 'ring' } } },
      observers: { overlay: { type: 'overlay', sample: 50, sources: 3 } },
    }));
    expect(rows.get('0 overlay live')).toBe(n);
    expect(rows.get('0 overlay indegree_mean')).toBe(c);
    expect(rows.get('0 overlay indegree_std')).toBe(0);
    expect(rows.get('0 overlay indegree_min')).toBe(c);
    expect(rows.get('0 overlay indegree_max')).toBe(c);
    expect(rows.get('0 overlay dead_links')).toBe(0);
    expect(rows.get('0 overlay largest_component')).toBe(n);
    // Node i links to i+1..i+c: of the c(c-1) ordered pairs among those, c(c-1)/2 are links.
    expect(rows.get('0 overlay clustering')).toBeCloseTo(0.5, 12);
    // From any source, c nodes lie at each distance 1, 2, ... around the ring.
    let hops = 0;
    for (let k = 1; k < n; k++) hops += Math.ceil(k / c);
    expect(rows.get('0 overlay path_length')).toBeCloseTo(hops / (n - 1), 9);
  });

  it('counts dead links and splits components when nodes leave', async () => {
    const simulation = await simulate({
      seed: 1, size: 10, cycles: 0,
      protocols: { cyclon: { type: 'cyclon', cache: 1, shuffle: 1, init: { topology: 'ring' } } },
      observers: { overlay: { type: 'overlay', sample: 0, sources: 0 } },
    });
    // A directed ring 0 -> 1 -> ... -> 9 -> 0; removing nodes 3 and 7 leaves paths 8-9-0-1-2 and 4-5-6.
    simulation.membership.leave(3);
    simulation.membership.leave(7);
    const rows = collect(simulation);
    expect(rows.get('0 overlay live')).toBe(8);
    expect(rows.get('0 overlay dead_links')).toBe(2);
    expect(rows.get('0 overlay largest_component')).toBe(5);
    // Without samples or sources, the estimates are NaN: every observation has every metric.
    expect(rows.get('0 overlay clustering')).toBeNaN();
    expect(rows.get('0 overlay path_length')).toBeNaN();
  });

  it('counts components on request (components: true), and only then', async () => {
    const ring = (components?: boolean) => ({
      seed: 1, size: 10, cycles: 0,
      protocols: { cyclon: { type: 'cyclon', cache: 1, shuffle: 1, init: { topology: 'ring' } } },
      observers: { overlay: { type: 'overlay', sample: 0, sources: 1, ...(components === undefined ? {} : { components }) } },
    });
    // Whole: the BFS reaches every node, so there is one component.
    const whole = collect(await simulate(ring(true)));
    expect(whole.get('0 overlay components')).toBe(1);
    expect(whole.get('0 overlay outside_largest')).toBe(0);
    expect(whole.get('0 overlay largest_fraction')).toBe(1);
    // Split as above: paths 8-9-0-1-2 and 4-5-6.
    const simulation = await simulate(ring(true));
    simulation.membership.leave(3);
    simulation.membership.leave(7);
    const split = collect(simulation);
    expect(split.get('0 overlay largest_component')).toBe(5);
    expect(split.get('0 overlay components')).toBe(2);
    expect(split.get('0 overlay outside_largest')).toBe(3);
    expect(split.get('0 overlay largest_fraction')).toBe(5 / 8);
    // No nodes: no component, and a fraction of nothing is undefined.
    const empty = await simulate(ring(true));
    for (let id = 0; id < 10; id++) empty.membership.leave(id);
    const none = collect(empty);
    expect(none.get('0 overlay components')).toBe(0);
    expect(none.get('0 overlay outside_largest')).toBe(0);
    expect(none.get('0 overlay largest_fraction')).toBeNaN();
    for (const components of [undefined, false]) {
      const rows = collect(await simulate(ring(components)));
      expect([...rows.keys()].filter((key) => /components|outside|fraction/.test(key))).toEqual([]);
    }
  });

  it('draws as many nodes for clustering as asked, even more than there are (with replacement, as before)', async () => {
    const scenario = (sample: number) => ({
      seed: 3, size: 300, capacity: 400, cycles: 2,
      protocols: { cyclon: { type: 'cyclon', cache: 6, shuffle: 3 } },
      observers: { overlay: { type: 'overlay', sample, sources: 1 } },
    });
    const clustering = (rows: Map<string, number>) => rows.get('2 overlay clustering');
    expect(clustering(collect(await simulate(scenario(1000))))).not.toBe(clustering(collect(await simulate(scenario(400)))));
  });
});
