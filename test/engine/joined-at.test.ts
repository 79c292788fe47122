import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinRegistry } from '../../src/builtins.js';
import { defineProtocol } from '../../src/engine/protocol.js';
import type { Simulation } from '../../src/engine/simulation.js';
import { simulate } from '../helpers.js';

/*
 * A node joins at the cycle whose controls added it or brought it back (store.joinedAt),
 * in the event engine at floor(time / period): both engines agree, and the churn
 * observer's mean_age counts from there (0 for a node added at the cycle observed).
 */

const PERIOD = 1000;
const SIZE = 50;
const ENGINES = ['cycle', 'event'] as const;

/** Rows `at metric -> value` of the `churn` observer, `at` in cycles whatever the engine. */
function run(simulation: Simulation): Map<string, number> {
  const rows = new Map<string, number>();
  const unit = simulation.eventLoop ? PERIOD : 1;
  simulation.run((at, observer, metric, value) => {
    if (observer === 'churn') rows.set(`${at / unit} ${metric}`, value);
  });
  return rows;
}

const live = (simulation: Simulation): number[] =>
  Array.from({ length: simulation.store.size }, (_, i) => simulation.store.liveSlot(i));

const base = (engine: string) => ({
  seed: 1, size: SIZE, cycles: 6, engine, event: { period: PERIOD },
  protocols: { cyclon: { type: 'cyclon', cache: 5, shuffle: 3 } },
  observers: { churn: { type: 'churn' } },
});

describe('the cycle a node joined at', () => {
  for (const engine of ENGINES) {
    it(`is the cycle whose controls added it, age 0 there (${engine} engine)`, async () => {
      const simulation = await simulate({ ...base(engine), capacity: SIZE + 4, controls: { grow: { type: 'churn', add: 4, from: 3, until: 3 } } });
      const rows = run(simulation);
      const joiners = live(simulation).filter((slot) => simulation.store.joinedAt[slot] !== 0);
      expect(joiners.map((slot) => simulation.store.joinedAt[slot])).toEqual([3, 3, 3, 3]);
      expect(rows.get('3 joined')).toBe(4);
      expect(rows.get('2 mean_age')).toBe(2);
      expect(rows.get('3 mean_age')).toBeCloseTo((3 * SIZE + 4 * 0) / (SIZE + 4), 12);
      expect(rows.get('6 mean_age')).toBeCloseTo((6 * SIZE + 4 * 3) / (SIZE + 4), 12);
    });

    it(`is the cycle it came back at from offline, age 0 there (${engine} engine)`, async () => {
      const simulation = await simulate({
        ...base(engine), attributes: { region: { dist: 'discrete', values: [0, 1] } },
        controls: { fire: { type: 'outage', at: 2, back: 4, region: 1 } },
      });
      const rows = run(simulation);
      const region = simulation.store.attribute('region');
      const slots = live(simulation);
      const returned = slots.filter((slot) => region[slot] === 1);
      expect(slots).toHaveLength(SIZE);
      expect(returned.length).toBeGreaterThan(10);
      for (const slot of slots) expect(simulation.store.joinedAt[slot]).toBe(region[slot] === 1 ? 4 : 0);
      expect(rows.get('3 mean_age')).toBe(3); // only region 0 is live
      expect(rows.get('4 mean_age')).toBeCloseTo((4 * (SIZE - returned.length)) / SIZE, 12);
    });
  }

  /** Records, per slot, the clock a joiner's onJoin saw and the clock its first step (timer) saw. */
  const probe = defineProtocol({
    type: 'clock-probe',
    description: 'test: the cycle protocols see at a join and at the joiner\'s first step',
    params: z.strictObject({}),
    create: (ctx) => {
      const atJoin = new Int32Array(ctx.store.capacity).fill(-1);
      const atFirstStep = new Int32Array(ctx.store.capacity).fill(-1);
      const step = (slot: number) => {
        if (atJoin[slot] >= 0 && atFirstStep[slot] < 0) atFirstStep[slot] = ctx.clock.cycle;
      };
      return {
        atJoin, atFirstStep, step, onTimer: step,
        onJoin(slot: number) { atJoin[slot] = ctx.clock.cycle; },
      };
    },
  });

  for (const engine of ENGINES) {
    it(`is not what protocols read: a joiner's onJoin sees the clock its first step sees (${engine} engine)`, async () => {
      const simulation = await simulate({
        ...base(engine), capacity: SIZE + 6,
        protocols: { probe: { type: 'clock-probe' } },
        controls: { grow: { type: 'churn', add: 3, from: 2, every: 2, until: 4 } },
      }, builtinRegistry().register(probe));
      simulation.run(() => {});
      const { atJoin, atFirstStep } = simulation.protocols.get('probe') as unknown as { atJoin: Int32Array; atFirstStep: Int32Array };
      const joiners = live(simulation).filter((slot) => atJoin[slot] >= 0);
      expect(joiners).toHaveLength(6);
      for (const slot of joiners) {
        expect(atFirstStep[slot]).toBe(atJoin[slot]);
        // The cycle engine's clock reads the cycle before while a cycle's controls and steps run.
        expect(atJoin[slot]).toBe(simulation.store.joinedAt[slot] - (engine === 'cycle' ? 1 : 0));
      }
    });
  }
});
