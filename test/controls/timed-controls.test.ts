import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotHeap } from '../../src/engine/slot-heap.js';
import { simulate } from '../helpers.js';

describe('slot heap', () => {
  it('pops slots in key order, each at most once, through updates and removals', () => {
    const op = fc.tuple(fc.constantFrom('update' as const, 'remove' as const, 'pop' as const), fc.nat(29), fc.integer({ min: 0, max: 50 }));
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const keys = new Float64Array(30);
      const heap = new SlotHeap(30, keys);
      const model = new Set<number>();
      for (const [kind, slot, key] of ops) {
        if (kind === 'update') {
          keys[slot] = key;
          heap.update(slot);
          model.add(slot);
        } else if (kind === 'remove') {
          heap.remove(slot);
          model.delete(slot);
        } else if (model.size > 0) {
          const least = Math.min(...[...model].map((s) => keys[s]));
          expect(heap.minKey()).toBe(least);
          const popped = heap.pop();
          expect(keys[popped]).toBe(least);
          expect(model.delete(popped)).toBe(true);
        }
        expect(heap.size).toBe(model.size);
      }
    }));
  });
});

/** Rows of a run, and how many times the control ran; `always` runs it at every scheduled time, as if it were always due. */
async function run(scenario: Record<string, unknown>, name: string, always: boolean): Promise<{ rows: string[]; runs: number }> {
  const simulation = await simulate(scenario);
  const control = simulation.control(name) as unknown as { execute(cycle: number): void; isDue(cycle: number): boolean; dueAt(): number };
  let runs = 0;
  const execute = control.execute.bind(control);
  control.execute = (cycle) => { runs++; execute(cycle); };
  if (always) {
    control.isDue = () => true;
    control.dueAt = () => -Infinity;
  }
  const rows: string[] = [];
  simulation.run((at, observer, metric, value) => rows.push(`${at},${observer},${metric},${value}`));
  return { rows, runs };
}

describe('controls with times of their own (sessions, trace)', () => {
  const event = { engine: 'event', event: { period: 100, timeout: 60 }, transport: { latency: { model: 'uniform', min: 1, max: 30 } } };
  const cases: [string, Record<string, unknown>][] = [
    ['sessions returning with their state, with churn by another control', {
      seed: 2, size: 300, capacity: 400, cycles: 8, ...event,
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      controls: {
        sessions: { type: 'sessions', on: { dist: 'exponential', mean: 20 }, off: { dist: 'exponential', mean: 5 } },
        churn: { type: 'churn', remove: 4, add: 5, max: 400 },
      },
      observers: { churn: { type: 'churn' }, overlay: { type: 'overlay', sample: 20, sources: 1 } },
    }],
    ['sessions returning as new nodes, with an outage', {
      seed: 3, size: 300, capacity: 500, cycles: 8, ...event,
      attributes: { region: { dist: 'discrete', values: [0, 1, 2] } },
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      controls: {
        outage: { type: 'outage', at: 2, back: 5, region: 1 },
        sessions: { type: 'sessions', on: { dist: 'weibull', shape: 0.5, scale: 20 }, off: { dist: 'exponential', mean: 2 }, returnAs: 'new' },
      },
      observers: { churn: { type: 'churn' } },
    }],
  ];
  it.each(cases)('give the same rows when run only when due: %s', async (_, scenario) => {
    const due = await run(scenario, 'sessions', false);
    const always = await run(scenario, 'sessions', true);
    expect(due.rows).toEqual(always.rows);
    // Every ms of 8 periods of 100 ms, against the times when a change was due.
    expect(always.runs).toBe(800);
    expect(due.runs).toBeLessThan(always.runs / 2);
  });

  it('give the same rows when run only when due: a trace', async () => {
    const scenario = {
      seed: 1, size: 200, cycles: 8, ...event,
      protocols: { cyclon: { type: 'cyclon', cache: 8, shuffle: 3 } },
      controls: { trace: { type: 'trace', file: resolve('scenarios/traces/sample.avt'), unit: 600 } },
      observers: { churn: { type: 'churn' } },
    };
    const due = await run(scenario, 'trace', false);
    const always = await run(scenario, 'trace', true);
    expect(due.rows).toEqual(always.rows);
    expect(always.runs).toBe(800);
    expect(due.runs).toBeLessThan(always.runs / 2);
  });
});
