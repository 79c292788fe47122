import { describe, expect, it } from 'vitest';
import type { Allocator } from '../../src/cloud/allocator.js';
import type { Simulation } from '../../src/engine/simulation.js';
import { collect, simulate } from '../helpers.js';

/** A run of `size` nodes with the oracle serving `requests`, measured every cycle by `subclouds`. */
async function oracleRun(size: number, cycles: number, requests: unknown[], extra: Record<string, unknown> = {}): Promise<Simulation> {
  return simulate({
    seed: 5, size, cycles,
    attributes: { capacity: { dist: 'uniform', min: 0, max: 4 } },
    protocols: { oracle: { type: 'oracle-allocation', requests } },
    observers: { cloud: { type: 'subclouds', allocator: 'oracle' } },
    ...extra,
  });
}

const allocatorOf = (simulation: Simulation) => simulation.protocols.get('oracle') as unknown as Allocator;
const row = (rows: Map<string, number>, at: number, metric: string) => rows.get(`${at} cloud ${metric}`)!;

describe('oracle-allocation', () => {
  it('fills a request at once from free qualifying nodes, in the cycle it arrives', async () => {
    const simulation = await oracleRun(1000, 5, [{ at: 0, size: 50 }, { at: 2, size: 100, where: ['capacity >= 2'] }]);
    const rows = collect(simulation);
    expect(row(rows, 0, 'r0/size')).toBe(0);
    expect(row(rows, 1, 'r0/size')).toBe(50);
    expect(row(rows, 1, 'r0/time_to_fill')).toBe(1);
    expect(row(rows, 2, 'r1/size')).toBe(0);
    expect(row(rows, 2, 'r1/target')).toBe(100);
    expect(row(rows, 2, 'pending_requests')).toBe(1);
    expect(row(rows, 3, 'r1/size')).toBe(100);
    expect(row(rows, 3, 'r1/valid_members')).toBe(100);
    expect(row(rows, 3, 'r1/time_to_fill')).toBe(1);
    expect(row(rows, 3, 'pending_requests')).toBe(0);
    expect(row(rows, 5, 'free_nodes')).toBe(850);
    expect(row(rows, 5, 'utilisation')).toBeCloseTo(0.15, 12);
    for (let t = 0; t <= 5; t++) {
      expect(row(rows, t, 'double_assigned')).toBe(0);
      expect(row(rows, t, 'constraint_violations')).toBe(0);
      expect(row(rows, t, 'messages_per_node')).toBe(t === 0 ? NaN : 0);
    }
    const capacity = simulation.store.attribute('capacity');
    const { owner } = allocatorOf(simulation).assignments;
    for (let slot = 0; slot < 1000; slot++) if (owner[slot] === 1) expect(capacity[slot]).toBeGreaterThanOrEqual(2);
  });

  it('keeps a request it cannot fill pending, and fills it when an earlier request is released', async () => {
    // 100 nodes: r0 takes 70 until cycle 10; r1 (50) gets the other 30 and waits; r2 (200) can never be filled.
    const rows = collect(await oracleRun(100, 14, [{ at: 0, size: 70, duration: 10 }, { at: 1, size: 50 }, { at: 1, size: 200 }]));
    for (let t = 2; t <= 10; t++) {
      expect(row(rows, t, 'r1/size')).toBe(30);
      expect(row(rows, t, 'r1/time_to_fill')).toBeNaN();
      expect(row(rows, t, 'pending_requests')).toBe(1);
      expect(row(rows, t, 'unsatisfiable_requests')).toBe(1);
      expect(row(rows, t, 'r2/size')).toBe(0);
    }
    expect(row(rows, 10, 'r0/target')).toBeNaN();
    expect(row(rows, 11, 'r0/size')).toBe(0);
    expect(row(rows, 11, 'r0/received')).toBe(700);
    expect(row(rows, 11, 'r1/size')).toBe(50);
    expect(row(rows, 11, 'r1/time_to_fill')).toBe(10);
    expect(row(rows, 11, 'r2/size')).toBe(50);
    expect(row(rows, 11, 'pending_requests')).toBe(0);
    expect(row(rows, 11, 'unsatisfiable_requests')).toBe(1);
    expect(row(rows, 14, 'r2/time_to_fill')).toBeNaN();
    expect(row(rows, 14, 'free_nodes')).toBe(0);
  });

  it('serves higher priority first, then earlier arrivals, without preempting', async () => {
    const rows = collect(await oracleRun(100, 8, [
      { at: 0, size: 60 }, { at: 0, size: 60, priority: 1 },
      { at: 1, size: 30, priority: 5 },
      { at: 2, size: 10 },
    ]));
    // r0 and r1 arrive together: r1 (priority 1) is filled, r0 gets the rest; r2 arrives to no free node.
    expect(row(rows, 1, 'r1/size')).toBe(60);
    expect(row(rows, 1, 'r0/size')).toBe(40);
    expect(row(rows, 2, 'r2/size')).toBe(0);
    expect(row(rows, 3, 'r3/size')).toBe(0);
    // Nothing is freed: everybody keeps what they have.
    expect(row(rows, 8, 'r0/size')).toBe(40);
    expect(row(rows, 8, 'pending_requests')).toBe(3);

    // Freed nodes go by priority, then arrival: r3 (priority 1, later) before r2, and r2 before r4 (same priority, later).
    const freed = collect(await oracleRun(100, 8, [
      { at: 0, size: 100, duration: 5 }, { at: 1, size: 40 }, { at: 2, size: 50, priority: 1 }, { at: 3, size: 40 },
    ]));
    expect(freed.get('6 cloud r2/size')).toBe(50);
    expect(freed.get('6 cloud r1/size')).toBe(40);
    expect(freed.get('6 cloud r3/size')).toBe(10);
  });

  it('keeps subclouds at their target under churn, replacing departed members in the cycle they leave', async () => {
    const simulation = await oracleRun(2000, 30, [
      { at: 0, size: 400, where: ['capacity >= 2'] }, { at: 3, size: 300, where: ['capacity < 1'], duration: 20 }, { at: 5, size: 200 },
    ], { controls: { churn: { type: 'churn', remove: 0.03, substitute: true } } });
    const rows = collect(simulation);
    for (let t = 6; t <= 30; t++) {
      expect(row(rows, t, 'r0/size')).toBe(400);
      expect(row(rows, t, 'r0/valid_members')).toBe(400);
      expect(row(rows, t, 'r2/size')).toBe(200);
      if (t < 23) expect(row(rows, t, 'r1/valid_members')).toBe(300);
      expect(row(rows, t, 'double_assigned')).toBe(0);
      expect(row(rows, t, 'constraint_violations')).toBe(0);
    }
    expect(row(rows, 30, 'r0/time_stable')).toBe(1);
    expect(row(rows, 30, 'r0/undershoot')).toBe(0);
    expect(row(rows, 30, 'r0/repair_time')).toBeNaN();
    expect(row(rows, 30, 'r1/size')).toBe(0);
  });

  it('in the event engine, keeps subclouds filled under churn', async () => {
    const rows = collect(await oracleRun(1000, 20, [{ at: 0, size: 300, where: ['capacity >= 2'] }, { at: 4.5, size: 100, duration: 10 }], {
      engine: 'event', event: { period: 1000 },
      // Half a period before each observation: the oracle replaces departed members at its next event.
      controls: { churn: { type: 'churn', remove: 0.02, substitute: true, from: '500ms' } },
    }));
    for (let t = 1; t <= 20; t++) {
      expect(row(rows, t * 1000, 'r0/size')).toBe(300);
      expect(row(rows, t * 1000, 'r0/valid_members')).toBe(300);
      expect(row(rows, t * 1000, 'double_assigned')).toBe(0);
      expect(row(rows, t * 1000, 'constraint_violations')).toBe(0);
    }
    expect(row(rows, 20000, 'r0/time_to_fill')).toBe(1);
    expect(row(rows, 6000, 'r1/time_to_fill')).toBeCloseTo(0.5, 12);
    expect(row(rows, 20000, 'r1/size')).toBe(0);
    // Node-ms: 100 members for 10 periods, less what churn cost between departures and replacements (a few ms each).
    expect(row(rows, 20000, 'r1/received')).toBeGreaterThan(0.99 * 100 * 10_000);
    expect(row(rows, 20000, 'r1/received')).toBeLessThanOrEqual(100 * 10_000);
  });

  it('meters exactly: node-cycles received are the sum of the sizes observed each cycle', async () => {
    const simulation = await oracleRun(1000, 40, [
      { at: 0, size: 300, where: ['capacity >= 1'] }, { at: 5, size: 500, duration: 17 }, { at: 8, size: 600, where: ['capacity < 3'] },
    ], { controls: { churn: { type: 'churn', remove: 0.05, substitute: true } } });
    const rows = collect(simulation);
    for (const r of [0, 1, 2]) {
      let sum = 0;
      for (let t = 1; t <= 40; t++) {
        sum += row(rows, t, `r${r}/size`);
        expect(row(rows, t, `r${r}/received`)).toBe(sum);
      }
    }
  });

  it('rejects a constraint on an attribute the scenario does not define, at its key', async () => {
    await expect(oracleRun(100, 2, [{ at: 0, size: 5 }, { at: 0, size: 5, where: ['capacity >= 1', 'cpus >= 2'] }]))
      .rejects.toThrow(/protocols\.oracle\.requests\.1\.where\.1: expected a constraint on an attribute the scenario defines \(capacity\), found "cpus"/);
  });
});
