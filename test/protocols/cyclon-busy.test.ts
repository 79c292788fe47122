import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/index.js';
import { resumeRun, runScenario } from '../../src/run.js';
import type { Transport } from '../../src/engine/protocol.js';
import type { CyclonCaches } from '../../src/protocols/cyclon-cache.js';
import type { Cyclon } from '../../src/protocols/cyclon.js';
import { collect, scenarioFile, simulate, tempDir } from '../helpers.js';
import { cacheProblems } from './cyclon-problems.js';

/* Cyclon's `busy` rule: what a node whose own shuffle request is in flight does with a request it receives. */

const REQUEST = 0, REPLY = 1, REFUSAL = 2;

function eventScenario(busy: string | undefined, latency: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    seed: 7, size: 300, cycles: 10, engine: 'event',
    event: { period: 1000 },
    transport: { latency: { model: 'constant', value: latency } },
    protocols: { cyclon: { type: 'cyclon', cache: 10, shuffle: 4, ...(busy ? { busy } : {}) } },
    observers: { overlay: { type: 'overlay', protocol: 'cyclon', sample: 100, sources: 1 } },
    ...extra,
  };
}

/** The private parts of Cyclon's event form a test looks at. */
interface EventsInside {
  ctx: { transport: Transport };
  waiting(slot: number): boolean;
  onMessage(slot: number, kind: number, from: number, payload: number): void;
}

function inside(cyclon: Cyclon): { events: EventsInside; caches: CyclonCaches } {
  return cyclon as unknown as { events: EventsInside; caches: CyclonCaches };
}

/** A node's cache as a string (ids in order, then the count). */
function cacheOf(cyclon: Cyclon, slot: number): string {
  const ids = [];
  for (let k = 0; k < cyclon.degree(slot); k++) ids.push(cyclon.neighbor(slot, k));
  return ids.join(' ');
}

/**
 * Runs the scenario and, for every request a node receives, notes whether it was
 * waiting for its own reply, whether its cache changed, and what it sent back at once.
 */
async function watchRequests(scenario: Record<string, unknown>) {
  const simulation = await simulate(scenario);
  const cyclon = simulation.protocols.get('cyclon') as Cyclon;
  const { events } = inside(cyclon);
  const transport = events.ctx.transport;
  const send = transport.send.bind(transport);
  const sentNow: number[] = [];
  transport.send = (from, to, kind, payload, bytes) => {
    sentNow.push(kind);
    return send(from, to, kind, payload, bytes);
  };
  const seen = { waiting: 0, waitingChanged: 0, answered: 0, refused: 0, replyWhileWaiting: 0, refusalWhileIdle: 0 };
  const onMessage = events.onMessage.bind(events);
  events.onMessage = (slot, kind, from, payload) => {
    if (kind !== REQUEST) return onMessage(slot, kind, from, payload);
    const waiting = events.waiting(slot);
    const before = cacheOf(cyclon, slot);
    sentNow.length = 0;
    onMessage(slot, kind, from, payload);
    if (waiting) {
      seen.waiting++;
      if (cacheOf(cyclon, slot) !== before) seen.waitingChanged++;
      if (sentNow.includes(REPLY)) seen.replyWhileWaiting++;
    } else if (sentNow.includes(REFUSAL)) seen.refusalWhileIdle++;
    if (sentNow.includes(REPLY)) seen.answered++;
    if (sentNow.includes(REFUSAL)) seen.refused++;
  };
  simulation.run(() => {});
  return seen;
}

describe('cyclon busy rule', () => {
  it('answer is the default: the same rows with busy: answer written out', async () => {
    const plain = collect(await simulate(eventScenario(undefined, 100)));
    const answer = collect(await simulate(eventScenario('answer', 100)));
    expect(answer).toEqual(plain);
  });

  it('has no effect in the cycle engine, where an exchange is atomic', async () => {
    const rows = await Promise.all(['answer', 'refuse', 'defer'].map(async (busy) => collect(await simulate(eventScenario(busy, 0, { engine: 'cycle' })))));
    expect(rows[1]).toEqual(rows[0]);
    expect(rows[2]).toEqual(rows[0]);
  });

  it('answer: a waiting node answers from its cache, which then changes (the overlap the other rules avoid)', async () => {
    const seen = await watchRequests(eventScenario('answer', 250));
    expect(seen.waiting).toBeGreaterThan(100);
    expect(seen.replyWhileWaiting).toBe(seen.waiting);
    expect(seen.waitingChanged).toBeGreaterThan(seen.waiting / 2);
  });

  it('refuse: a waiting node refuses every request and keeps its cache; an idle one answers', async () => {
    const seen = await watchRequests(eventScenario('refuse', 250));
    expect(seen.waiting).toBeGreaterThan(100);
    expect(seen).toMatchObject({ waitingChanged: 0, replyWhileWaiting: 0, refusalWhileIdle: 0, refused: seen.waiting });
    expect(seen.answered).toBeGreaterThan(100);
  });

  it('defer: a waiting node sends nothing and keeps its cache; it answers later', async () => {
    const seen = await watchRequests(eventScenario('defer', 250));
    expect(seen.waiting).toBeGreaterThan(100);
    expect(seen).toMatchObject({ waitingChanged: 0, replyWhileWaiting: 0, refused: 0 });
  });

  it('refuse: the refused requester puts its entry for the busy node back, with age 0', async () => {
    const simulation = await simulate(eventScenario('refuse', 400));
    const cyclon = simulation.protocols.get('cyclon') as Cyclon;
    const { events, caches } = inside(cyclon);
    const onMessage = events.onMessage.bind(events);
    let refusals = 0;
    events.onMessage = (slot, kind, from, payload) => {
      const before = cyclon.degree(slot);
      const fresh = kind === REFUSAL && events.waiting(slot);
      onMessage(slot, kind, from, payload);
      if (!fresh) return;
      refusals++;
      const n = cyclon.degree(slot);
      expect(n).toBe(before + 1);
      expect(cyclon.neighbor(slot, n - 1)).toBe(from);
      expect(caches.ageOf(slot * caches.stride, n - 1)).toBe(0);
    };
    simulation.run(() => {});
    expect(refusals).toBeGreaterThan(100);
  });

  it('keeps every cache sound and every deferred request accounted for, under latency, loss and churn', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        busy: fc.constantFrom('refuse', 'defer'),
        size: fc.integer({ min: 3, max: 60 }),
        cache: fc.integer({ min: 1, max: 12 }),
        maxLatency: fc.integer({ min: 0, max: 2500 }),
        timeout: fc.constantFrom(300, 1000, 2000),
        loss: fc.constantFrom(0, 0.1),
        churn: fc.boolean(),
        seed: fc.nat(1000),
      }),
      async ({ busy, size, cache, maxLatency, timeout, loss, churn, seed }) => {
        const c = Math.min(cache, size - 1);
        const simulation = await simulate({
          seed, size, capacity: 2 * size, cycles: 6, engine: 'event',
          event: { period: 1000, timeout },
          transport: { latency: { model: 'uniform', min: 0, max: maxLatency }, loss },
          protocols: { cyclon: { type: 'cyclon', cache: c, shuffle: Math.max(1, c >> 1), busy } },
          controls: churn ? { churn: { type: 'churn', remove: 0.1, substitute: true, every: 1 } } : {},
        });
        const cyclon = simulation.protocols.get('cyclon') as Cyclon;
        while (!simulation.done) {
          simulation.advance(() => {});
          expect(cacheProblems(cyclon, simulation)).toEqual([]);
        }
        if (busy === 'defer') {
          // Each deferred request's record sits in the message pool, and each queue ends where it says.
          const { messages, deferred, qIds } = inside(cyclon).events as unknown as {
            messages: { data: Int32Array; width: number }; deferred: Int32Array; qIds: number;
          };
          for (let slot = 0; slot < deferred.length / 2; slot++) {
            let last = -1;
            for (let m = deferred[2 * slot], steps = 0; m >= 0; m = messages.data[m * messages.width + qIds], steps++) {
              expect(steps).toBeLessThan(4 * size);
              last = m;
            }
            expect(deferred[2 * slot + 1]).toBe(last);
          }
        }
      },
    ), { numRuns: 30 });
  });

  it.for(['refuse', 'defer'])('%s: stopped with shuffles in flight and resumed, the same metrics.csv as run through', async (busy) => {
    const file = scenarioFile(eventScenario(busy, 450, { size: 500, cycles: 8, observers: { overlay: { type: 'overlay', protocol: 'cyclon', every: 1, sample: 100, sources: 1 } } }));
    const whole = tempDir();
    await runScenario(file, { out: whole });
    const dir = tempDir();
    let done = 0;
    const stopped = await runScenario(file, { out: dir, onProgress: (p) => { done = p.cycles; }, shouldStop: () => done >= 4 });
    expect(stopped).toMatchObject({ status: 'interrupted', cycles: 4 });
    await resumeRun(dir);
    const csv = (d: string) => readFileSync(join(d, 'metrics.csv'), 'utf8');
    expect(csv(dir)).toBe(csv(whole));
  });

  it('rejects an unknown rule in one line, naming the key and the rules', async () => {
    const file = scenarioFile(eventScenario('wait', 100));
    const message = await loadScenario(file).then(() => 'no error', (error: Error) => error.message.replace(`${file}:`, 'FILE:'));
    expect(message).toMatch(/^FILE:\d+: protocols\.cyclon\.busy: expected "answer" or "refuse" or "defer", found "wait"$/);
  });
});
