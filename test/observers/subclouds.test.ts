import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Assignments, type Allocator } from '../../src/cloud/allocator.js';
import { expandRequests, requestsSchema, type Request } from '../../src/cloud/requests.js';
import { builtinRegistry } from '../../src/builtins.js';
import { defineProtocol, type Protocol, type ProtocolContext } from '../../src/engine/protocol.js';
import { readManifest } from '../../src/output/manifest.js';
import { resumeRun, runScenario } from '../../src/run.js';
import { collect, scenarioFile, simulate, tempDir } from '../helpers.js';

const scriptParams = z.strictObject({
  requests: requestsSchema,
  /** sizes[c]: members of request 1 during cycle c + 1 (so observed at c + 1), on slots 0, 1, ... */
  sizes: z.array(z.number().int().min(0)),
  /** Request 0 is given these slots at the start, whatever its constraints. */
  others: z.array(z.number().int()).default([]),
  /** At this cycle the node in the last of `others` leaves without being released (a leak). */
  leak: z.number().optional(),
  /** [slot, request] pairs forEachClaim reports. */
  claims: z.array(z.tuple([z.number().int(), z.number().int()])).default([]),
});

/** A stand-in allocator that plays a script, so that what the observer reports can be worked out by hand. */
class ScriptedAllocator implements Protocol, Allocator {
  readonly requests: readonly Request[];
  readonly assignments: Assignments;
  constructor(private readonly ctx: ProtocolContext, private readonly p: z.infer<typeof scriptParams>) {
    this.requests = expandRequests(p.requests, ctx.scenario.seed, ctx.scenario.cycles);
    this.assignments = new Assignments(ctx.store.capacity, this.requests.length, ctx.state);
  }
  /** 100 messages a cycle. */
  get messages(): number { return 100 * this.ctx.clock.time; }
  step(): void {}
  beginCycle(): void {
    const now = this.ctx.clock.time;
    const a = this.assignments;
    const want = this.p.sizes[now] ?? 0;
    while (a.size[1] > want) a.release(a.size[1] - 1, now);
    while (a.size[1] < want) a.assign(a.size[1], 1, now);
    if (now === 0) for (const slot of this.p.others) a.assign(slot, 0, now);
    if (now === this.p.leak) this.ctx.membership.leave(this.p.others.at(-1)!);
  }
  forEachClaim(visit: (slot: number, request: number) => void): void {
    for (const [slot, request] of this.p.claims) visit(slot, request);
  }
}
const scripted = defineProtocol({ type: 'scripted-allocation', description: 'test double', params: scriptParams, create: (ctx, p) => new ScriptedAllocator(ctx, p) });

/** A small run of the oracle serving customer alice. */
const oracleScenario = (cycles: number) => ({
  name: 'metering', seed: 1, size: 100, cycles,
  protocols: { oracle: { type: 'oracle-allocation', requests: [{ at: 0, size: 10, customer: 'alice' }, { at: 2, size: 20, duration: 2, customer: 'bob' }] } },
  observers: { cloud: { type: 'subclouds', allocator: 'oracle' } },
});

describe('subclouds observer', () => {
  // Observed sizes of r1 (target 10, arriving at cycle 2) at cycles 1, 2, ...
  const observed = [0, 0, 5, 10, 12, 10, 10, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 7, 8, 10, 10, 10, 10];
  const cycles = observed.length;
  const scenario = {
    seed: 2, size: 100, cycles,
    attributes: { value: { dist: 'uniform', min: 0, max: 1 } },
    protocols: {
      script: {
        type: 'scripted-allocation', sizes: [...observed], others: [90, 91, 92, 93], leak: 9,
        claims: [[0, 1], [1, 0], [1, 0], [50, 1], [93, 0]],
        // In arrival order: r0 = b (nobody meets its constraint), r1 = a.
        requests: [{ at: 2, size: 10, where: ['value >= 0'], customer: 'a' }, { at: 0, size: 4, where: ['value > 2'], customer: 'b' }],
      },
    },
    observers: { cloud: { type: 'subclouds', allocator: 'script' } },
  };

  it('works out every metric as its definition says', async () => {
    const simulation = await simulate(scenario, builtinRegistry().register(scripted));
    const rows = collect(simulation);
    const at = (t: number, metric: string) => rows.get(`${t} cloud ${metric}`)!;
    const size = (t: number) => (t === 0 ? 0 : observed[t - 1]);
    let received = 0;
    for (let t = 0; t <= cycles; t++) {
      received += size(t);
      expect(at(t, 'r1/target')).toBe(t >= 2 ? 10 : NaN);
      expect(at(t, 'r1/size')).toBe(size(t));
      expect(at(t, 'r1/valid_members')).toBe(size(t));
      expect(at(t, 'r1/received')).toBe(received);
      expect(at(t, 'r1/time_to_fill')).toBe(t >= 4 ? 2 : NaN);
      expect(at(t, 'r1/overshoot')).toBe(t < 4 ? NaN : t < 5 ? 0 : 0.2);
      expect(at(t, 'r1/undershoot')).toBe(t < 4 ? NaN : t < 8 ? 0 : t < 20 ? 0.1 : 0.3);
      // In band (exactly 10) at 9..19: 10 consecutive cycles by 18, counted from 9.
      expect(at(t, 'r1/time_stable')).toBe(t >= 18 ? 7 : NaN);
      // Below at 8, back at 9 (1); below at 20, back at 22 (2).
      expect(at(t, 'r1/repair_time')).toBe(t < 9 ? NaN : t < 22 ? 1 : 1.5);

      const leaked = t >= 10;
      const live = leaked ? 99 : 100;
      expect(at(t, 'r0/target')).toBe(4);
      expect(at(t, 'r0/size')).toBe(t >= 1 ? 4 : 0);
      expect(at(t, 'r0/valid_members')).toBe(0);
      expect(at(t, 'r0/time_to_fill')).toBe(t >= 1 ? 1 : NaN);
      expect(at(t, 'constraint_violations')).toBe(t === 0 ? 0 : leaked ? 3 : 4);
      expect(at(t, 'unsatisfiable_requests')).toBe(1);
      expect(at(t, 'pending_requests')).toBe(t >= 2 && size(t) < 10 ? 1 : 0);
      const serving = size(t) + (t === 0 ? 0 : leaked ? 3 : 4);
      expect(at(t, 'free_nodes')).toBe(live - serving);
      expect(at(t, 'utilisation')).toBeCloseTo(serving / live, 12);
      expect(at(t, 'messages_per_node')).toBe(t === 0 ? NaN : 100 / live);
      // Claims on nodes serving another request or none: slot 50 always, slot 1 (claimed twice, counted once),
      // slot 0 while free, slot 93 while it is live and free; plus the member that left without being released.
      const claimed = 1 + 1 + (size(t) === 0 ? 1 : 0) + (t === 0 ? 1 : 0);
      expect(at(t, 'double_assigned')).toBe(claimed + (leaked ? 1 : 0));
      if (t === 0) {
        expect(at(t, 'jain_fairness')).toBeNaN();
      } else {
        const x = t > 2 ? received / (10 * (t - 2)) : undefined;
        expect(at(t, 'jain_fairness')).toBeCloseTo(x === undefined ? 1 : (x + 1) ** 2 / (2 * (x * x + 1)), 12);
      }
    }
  });

  it('counts stability from arrival: a subcloud held just short of its target is stable, never filled', async () => {
    // r0: target 20 from cycle 2; observed sizes at 1, 2, ...: 19 (within 5%) from cycle 3 on, never 20.
    const short = [0, 0, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19];
    const rows = collect(await simulate({
      seed: 2, size: 100, cycles: short.length,
      protocols: { script: { type: 'scripted-allocation', sizes: short, requests: [{ at: 0, size: 1, customer: 'x' }, { at: 2, size: 20, customer: 'a' }] } },
      observers: { cloud: { type: 'subclouds', allocator: 'script' } },
    }, builtinRegistry().register(scripted)));
    for (let t = 0; t <= short.length; t++) {
      expect(rows.get(`${t} cloud r1/time_to_fill`)).toBeNaN();
      // In band at 3..14: 10 consecutive cycles by 12, counted from 3, one cycle after arrival.
      expect(rows.get(`${t} cloud r1/time_stable`)).toBe(t >= 12 ? 1 : NaN);
      expect(rows.get(`${t} cloud r1/undershoot`)).toBeNaN(); // since first filled: never
    }
  });

  it('declares its metrics at creation: the global ones, then each request\'s', async () => {
    const simulation = await simulate(oracleScenario(1));
    const names: string[] = [];
    simulation.observe((_at, _observer, metric) => names.push(metric));
    expect(names.slice(0, 8)).toEqual(['free_nodes', 'pending_requests', 'unsatisfiable_requests', 'utilisation', 'jain_fairness', 'double_assigned', 'constraint_violations', 'messages_per_node']);
    expect(names.slice(8, 17)).toEqual(['target', 'size', 'valid_members', 'time_to_fill', 'time_stable', 'overshoot', 'undershoot', 'repair_time', 'received'].map((m) => `r0/${m}`));
    expect(names).toHaveLength(8 + 2 * 9);
  });

  it('measures times in cycles in the event engine too', async () => {
    const rows = collect(await simulate({ ...oracleScenario(4), engine: 'event', event: { period: 500 } }));
    expect(rows.get('2000 cloud r0/time_to_fill')).toBe(1);
    expect(rows.get('2000 cloud r1/time_to_fill')).toBe(1);
    expect(rows.get('2000 cloud r0/received')).toBeGreaterThan(10 * 1500);
  });

  it('counts the live nodes meeting each kind of constraint, at its edges too', async () => {
    const sets = [['level > 1'], ['level < 1'], ['level >= 2'], ['level <= 2'], ['level == 2'], ['level != 2'], ['level in [1, 2]'], ['level in {1, 3}'],
      ['level > -1'], ['level < 3'], ['level > 3'], ['level in [2, 1]'], ['level > 0', 'value < 0.5', 'level != 3'], []];
    const base = { seed: 4, size: 500, cycles: 0, attributes: { level: { dist: 'discrete', values: [0, 1, 2, 3] }, value: { dist: 'uniform', min: 0, max: 1 } } };
    const probe = await simulate({ ...base, protocols: { oracle: { type: 'oracle-allocation', requests: [{ at: 0, size: 1 }] } } });
    const { store } = probe;
    const level = store.attribute('level'), value = store.attribute('value');
    const meeting = (where: string[]) => {
      let k = 0;
      for (let i = 0; i < store.size; i++) {
        const slot = store.liveSlot(i);
        const ok = where.every((w) => {
          const [, name, op, bound] = /^(\w+) (>=|<=|==|!=|>|<|in) (.+)$/.exec(w)!;
          const x = (name === 'level' ? level : value)[slot];
          const b = bound.startsWith('{') || bound.startsWith('[') ? bound.slice(1, -1).split(',').map(Number) : [Number(bound)];
          switch (op) {
            case '>': return x > b[0]; case '<': return x < b[0]; case '>=': return x >= b[0]; case '<=': return x <= b[0];
            case '==': return x === b[0]; case '!=': return x !== b[0];
            default: return bound.startsWith('{') ? b.includes(x) : x >= b[0] && x <= b[1];
          }
        });
        if (ok) k++;
      }
      return k;
    };
    const counts = sets.map(meeting);
    expect(counts.filter((k) => k === 0)).toHaveLength(2);
    // Per set: a request for exactly as many nodes as meet it (or 1 if none), and one for one more.
    const requests = sets.flatMap((where, i) => [{ at: 0, size: Math.max(1, counts[i]), where }, { at: 0, size: counts[i] + 1, where }]);
    const rows = collect(await simulate({ ...base, protocols: { oracle: { type: 'oracle-allocation', requests } }, observers: { cloud: { type: 'subclouds', allocator: 'oracle' } } }));
    expect(rows.get('0 cloud unsatisfiable_requests')).toBe(sets.length + 2);
    expect(rows.get('0 cloud pending_requests')).toBe(sets.length - 2);
  });

  it('refuses a protocol that is not an allocator, in one line at its key', async () => {
    await expect(simulate({ size: 10, cycles: 1, protocols: { peers: { type: 'oracle' } }, observers: { cloud: { type: 'subclouds', allocator: 'peers' } } }))
      .rejects.toThrow(/observers\.cloud\.allocator: expected the name of an allocator \(allocation, absolute-slicing, oracle-allocation\), found "peers" \(of another type\)$/);
  });
});

describe('metering in the manifest', () => {
  const expected = (cycles: number) => ({
    cloud: {
      unit: 'node-cycles', time: cycles,
      received_per_customer: { alice: 10 * cycles, bob: cycles >= 4 ? 40 : 20 * Math.max(0, cycles - 2) },
      served: { total: 10 * cycles + (cycles >= 4 ? 40 : 20 * Math.max(0, cycles - 2)), mean_per_node: expect.any(Number), max_per_node: cycles, nodes: 100 },
    },
  });

  it('totals node-time per customer and per node when the run ends', async () => {
    const dir = tempDir();
    await runScenario(scenarioFile(oracleScenario(6)), { out: dir });
    const { summaries } = readManifest(dir);
    expect(summaries).toEqual(expected(6));
    expect((summaries!.cloud as any).served.mean_per_node).toBeCloseTo((60 + 40) / 100, 12);
  });

  it('when stopped, and again at the end of the resumed run', async () => {
    const dir = tempDir();
    let asked = 0;
    const stopped = await runScenario(scenarioFile(oracleScenario(6)), { out: dir, shouldStop: () => ++asked > 3 });
    expect(stopped.status).toBe('interrupted');
    expect(readManifest(dir).summaries).toEqual(expected(3));
    await resumeRun(dir);
    expect(readManifest(dir).summaries).toEqual(expected(6));
  });

  it('leaves the manifest without summaries when no observer keeps any', async () => {
    const dir = tempDir();
    await runScenario(scenarioFile({ ...oracleScenario(2), observers: {} }), { out: dir });
    expect(readManifest(dir)).not.toHaveProperty('summaries');
  });
});
