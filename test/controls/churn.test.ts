import { describe, expect, it } from 'vitest';
import { collect, simulate } from '../helpers.js';

describe('steady churn', () => {
  it('keeps Cyclon healthy under 1% churn per cycle (N = 10^4)', async () => {
    const cycles = 100;
    const rows = collect(await simulate({
      seed: 4, size: 10_000, cycles,
      protocols: { cyclon: { type: 'cyclon', cache: 20, shuffle: 8 } },
      controls: { churn: { type: 'churn', remove: 0.01, substitute: true } },
      observers: {
        overlay: { type: 'overlay', sample: 0, sources: 0 },
        churn: { type: 'churn' },
      },
    }));
    const deadLinks: number[] = [];
    for (let c = 1; c <= cycles; c++) {
      expect(rows.get(`${c} churn live`)).toBe(10_000);
      expect(rows.get(`${c} churn failed`)).toBe(rows.get(`${c} churn joined`));
      expect(rows.get(`${c} overlay largest_component`)).toBeGreaterThanOrEqual(0.999 * 10_000);
      deadLinks.push(rows.get(`${c} overlay dead_links`)!);
    }
    // Bounded: the second half's level is no higher than the first half's peak.
    console.log(`dead links under 1% churn: cycles 41-50 mean ${deadLinks.slice(40, 50).reduce((a, b) => a + b) / 10}, cycles 91-100 mean ${deadLinks.slice(90).reduce((a, b) => a + b) / 10}`);
    const firstHalfPeak = Math.max(...deadLinks.slice(0, 50));
    const secondHalfPeak = Math.max(...deadLinks.slice(50));
    expect(secondHalfPeak).toBeLessThanOrEqual(firstHalfPeak * 1.2);
    // Each cycle 100 nodes with ~20 in-links die; a dead link lives ~10 cycles until it is the oldest: ~10% of all links.
    expect(secondHalfPeak).toBeLessThan(0.15 * 20 * 10_000);
    expect(rows.get(`${cycles} churn mean_age`)).toBeGreaterThan(30);
  });

  it('respects min and max, and counts removals as failures by default', async () => {
    const rows = collect(await simulate({
      seed: 1, size: 100, capacity: 130, cycles: 10,
      protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 3 } },
      controls: {
        shrink: { type: 'churn', remove: 10, min: 80, until: 5 },
        grow: { type: 'churn', add: 10, max: 120, from: 6 },
      },
      observers: { churn: { type: 'churn' } },
    }));
    expect(rows.get('2 churn live')).toBe(80);
    expect(rows.get('1 churn failed')).toBe(10);
    expect(rows.get('5 churn live')).toBe(80);
    expect(rows.get('7 churn live')).toBe(100);
    expect(rows.get('10 churn live')).toBe(120);
  });
});

describe('churn correlated with an attribute', () => {
  it('removes the bottom of the attribute each time, and names a bad attribute', async () => {
    const scenario = {
      seed: 2, size: 1000, cycles: 3,
      attributes: { reliability: { dist: 'uniform', min: 0, max: 1 } },
      protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 2 } },
      controls: { unreliable: { type: 'churn', remove: 50, select: 'bottom', attribute: 'reliability' } },
    };
    const simulation = await simulate(scenario);
    const values = simulation.store.attribute('reliability');
    const sorted = Array.from(values.subarray(0, 1000)).sort((a, b) => a - b);
    simulation.runCycle(() => {});
    simulation.runCycle(() => {});
    let minLive = Infinity;
    for (let i = 0; i < simulation.store.size; i++) minLive = Math.min(minLive, values[simulation.store.liveSlot(i)]);
    expect(simulation.store.size).toBe(900);
    expect(minLive).toBe(sorted[100]);
    await expect(simulate({ ...scenario, controls: { unreliable: { ...scenario.controls.unreliable, attribute: 'uptime' } } }))
      .rejects.toThrow('controls.unreliable.attribute: expected a declared attribute (reliability), found "uptime"');
    await expect(simulate({ ...scenario, controls: { unreliable: { type: 'churn', remove: 5, select: 'top' } } }))
      .rejects.toThrow('controls.unreliable.attribute: expected an attribute name to rank by for select: top, found nothing');
  });
});

describe('catastrophe', () => {
  it('fails half the nodes at once, and Cyclon sheds the dead links', async () => {
    const rows = collect(await simulate({
      seed: 2, size: 5000, cycles: 60,
      protocols: { cyclon: { type: 'cyclon', cache: 20, shuffle: 5 } },
      controls: { disaster: { type: 'catastrophe', at: 20, amount: 0.5 } },
      observers: { overlay: { type: 'overlay', sample: 0, sources: 0 }, churn: { type: 'churn' } },
    }));
    expect(rows.get('19 churn live')).toBe(5000);
    expect(rows.get('20 churn live')).toBe(2500);
    expect(rows.get('20 churn failed')).toBe(2500);
    expect(rows.get('20 overlay dead_links')).toBeGreaterThan(0);
    expect(rows.get('60 overlay dead_links')).toBe(0);
    expect(rows.get('60 overlay largest_component')).toBe(2500);
  });

  it('takes the top of an attribute when asked', async () => {
    const simulation = await simulate({
      seed: 2, size: 1000, cycles: 1,
      attributes: { reliability: { dist: 'uniform', min: 0, max: 1 } },
      protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 2 } },
      controls: { disaster: { type: 'catastrophe', at: 1, amount: 100, select: 'top', attribute: 'reliability' } },
    });
    const values = simulation.store.attribute('reliability');
    const sorted = Array.from(values).sort((a, b) => b - a);
    simulation.runCycle(() => {});
    let maxLive = 0;
    for (let i = 0; i < simulation.store.size; i++) maxLive = Math.max(maxLive, values[simulation.store.liveSlot(i)]);
    expect(simulation.store.size).toBe(900);
    expect(maxLive).toBe(sorted[100]);
  });
});

describe('regional outage', () => {
  it('takes a region down and brings it back with the same ids', async () => {
    const simulation = await simulate({
      seed: 3, size: 1000, cycles: 30,
      attributes: { region: { dist: 'discrete', values: [0, 1, 2] } },
      protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4 } },
      controls: { fire: { type: 'outage', at: 5, back: 15, region: 1 } },
      observers: { churn: { type: 'churn' }, overlay: { type: 'overlay', sample: 0, sources: 0 } },
    });
    const region = simulation.store.attribute('region');
    const inRegion = [];
    for (let slot = 0; slot < 1000; slot++) if (region[slot] === 1) inRegion.push(simulation.store.idOf[slot]);
    const rows = collect(simulation);
    expect(rows.get('5 churn failed')).toBe(inRegion.length);
    expect(rows.get('5 churn live')).toBe(1000 - inRegion.length);
    expect(rows.get('15 churn joined')).toBe(inRegion.length);
    expect(rows.get('15 churn live')).toBe(1000);
    for (const id of inRegion) expect(simulation.store.slotOf(id)).toBeGreaterThanOrEqual(0);
    expect(rows.get('30 overlay largest_component')).toBe(1000);
  });
});
