import { describe, expect, it } from 'vitest';
import type { Linkable } from '../../src/engine/protocol.js';
import { collect, simulate } from '../helpers.js';

describe('overlay observer, exact metrics', () => {
  it('counts an in-degree beyond a byte (a star\'s hub)', async () => {
    const n = 2000;
    const rows = collect(await simulate({
      seed: 1, size: n, cycles: 0,
      protocols: { cyclon: { type: 'cyclon', cache: 3, shuffle: 2, init: { topology: 'star' } } },
      observers: { overlay: { type: 'overlay', sample: 20, sources: 1 } },
    }));
    expect(rows.get('0 overlay indegree_max')).toBe(n - 1);
    expect(rows.get('0 overlay indegree_min')).toBe(0);
    expect(rows.get('0 overlay indegree_mean')).toBe((n - 1) / n);
  });

  it('agrees with a plain computation after churn has made slots and ids differ', async () => {
    const simulation = await simulate({
      seed: 4, size: 3000, capacity: 3500, cycles: 6,
      protocols: { cyclon: { type: 'cyclon', cache: 6, shuffle: 3 } },
      controls: { churn: { type: 'churn', remove: 0.2, add: 0.15 } },
      observers: { overlay: { type: 'overlay', sample: 10, sources: 1, every: 6 } },
    });
    const rows = collect(simulation);
    const { store } = simulation;
    expect(store.slotsAreIds).toBe(false);
    const links = simulation.protocols.get('cyclon')!.linkable as Linkable;
    const live: number[] = [];
    for (let i = 0; i < store.size; i++) live.push(store.liveSlot(i));
    const indegree = new Map<number, number>(live.map((slot) => [slot, 0]));
    const neighbours = new Map<number, number[]>(live.map((slot) => [slot, []]));
    let dead = 0;
    for (const u of live) {
      for (let k = 0; k < links.degree(u); k++) {
        const v = store.slotOf(links.neighbor(u, k));
        if (v < 0) { dead++; continue; }
        indegree.set(v, indegree.get(v)! + 1);
        neighbours.get(u)!.push(v);
        neighbours.get(v)!.push(u);
      }
    }
    const degrees = live.map((slot) => indegree.get(slot)!);
    const mean = degrees.reduce((a, b) => a + b, 0) / degrees.length;
    const std = Math.sqrt(degrees.reduce((a, x) => a + (x - mean) ** 2, 0) / degrees.length);
    let largest = 0;
    const seen = new Set<number>();
    for (const start of live) {
      if (seen.has(start)) continue;
      const stack = [start];
      seen.add(start);
      let size = 0;
      while (stack.length > 0) {
        const u = stack.pop()!;
        size++;
        for (const v of neighbours.get(u)!) if (!seen.has(v)) { seen.add(v); stack.push(v); }
      }
      largest = Math.max(largest, size);
    }
    expect(rows.get('6 overlay live')).toBe(live.length);
    expect(rows.get('6 overlay dead_links')).toBe(dead);
    expect(rows.get('6 overlay indegree_mean')).toBe(mean);
    expect(rows.get('6 overlay indegree_std')).toBe(std);
    expect(rows.get('6 overlay indegree_min')).toBe(Math.min(...degrees));
    expect(rows.get('6 overlay indegree_max')).toBe(Math.max(...degrees));
    expect(rows.get('6 overlay largest_component')).toBe(largest);
  });
});

describe('overlay observer, path length on a graph of large diameter', () => {
  it('is exact and costs no scan per BFS level (a 200,000-node ring, 50,000 levels)', async () => {
    const n = 200_000, c = 4;
    const started = performance.now();
    const rows = collect(await simulate({
      seed: 1, size: n, cycles: 0,
      protocols: { cyclon: { type: 'cyclon', cache: c, shuffle: 2, init: { topology: 'ring' } } },
      observers: { overlay: { type: 'overlay', sample: 10, sources: 1 } },
    }));
    let hops = 0;
    for (let k = 1; k < n; k++) hops += Math.ceil(k / c);
    expect(rows.get('0 overlay path_length')).toBe(hops / (n - 1));
    expect(rows.get('0 overlay largest_component')).toBe(n);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
