import { z } from 'zod';
import { defineObserver, type Context, type ObserverInstance } from '../engine/protocol.js';
import { fitWeibull, type SessionRecord } from './session-fit.js';

const params = z.strictObject({
  sessions: z.boolean().default(false)
    .describe('also follow every session and fit a Weibull to their lengths in cycles (maximum likelihood, see session-fit.ts): sessions_ended, sessions_running, session_shape, session_scale'),
});
type ChurnObserverParams = z.infer<typeof params>;

const BASE_METRICS = ['live', 'joined', 'left', 'failed', 'mean_age'] as const;
const SESSION_METRICS = ['sessions_ended', 'sessions_running', 'session_shape', 'session_scale'] as const;

/**
 * Population dynamics: live nodes, and how many joined, left (sessions ended) and
 * failed (crashes, outages) since the previous observation; mean age of live nodes
 * in cycles since they (re)joined (NaN when none is live): a node that cycle c's
 * controls added or brought back has age 0 at an observation at c (the same at time t
 * in the event engine, c = floor(t / period)).
 *
 * With `sessions`, the observer also follows each session as an observer polling the
 * overlay would (a crawler, as in measurement studies): a session is a stay of a node
 * from the cycle it (re)joined. Between two observations it only knows that a node it
 * saw is gone, so a session's length in cycles is known within [last seen alive,
 * first seen gone] (exact when observing every cycle); sessions still running are
 * right-censored; a session first seen at age a is counted given that it lasted that
 * long (left truncation), which keeps the fit unbiased for any observation interval
 * (sessions that start and end between two observations are never seen). The fit is
 * over every session seen so far; NaN until one has ended.
 */
class ChurnObserver implements ObserverInstance {
  readonly metrics: readonly string[];
  /** The counts at the previous observation. */
  private readonly last: { joined: number; left: number; failed: number };
  private readonly tracking?: SessionTracking;

  constructor(private readonly ctx: Context, p: ChurnObserverParams) {
    this.metrics = p.sessions ? [...BASE_METRICS, ...SESSION_METRICS] : BASE_METRICS;
    this.last = ctx.state.values('last', { joined: 0, left: 0, failed: 0 });
    if (p.sessions) this.tracking = new SessionTracking(ctx);
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store, membership, clock } = this.ctx;
    const { last } = this;
    const counts = membership.counts;
    emit('live', store.size);
    emit('joined', counts.joined - last.joined);
    emit('left', counts.left - last.left);
    emit('failed', counts.failed - last.failed);
    last.joined = counts.joined;
    last.left = counts.left;
    last.failed = counts.failed;
    let age = 0;
    for (let i = 0; i < store.size; i++) age += clock.cycle - store.joinedAt[store.liveSlot(i)];
    emit('mean_age', store.size > 0 ? age / store.size : NaN);
    this.tracking?.observe(emit);
  }
}

/** Sessions seen by polling every slot at each observation (see ChurnObserver). */
class SessionTracking {
  /** slot -> id of the node whose session is followed there, -1 none. */
  private readonly node: Int32Array;
  /** slot -> the node's joinedAt when its session was first seen: a change means a new session. */
  private readonly stamp: Int32Array;
  /** slot -> cycle the followed session started: its first cycle in the overlay (0 for the initial nodes). */
  private readonly since: Int32Array;
  /** slot -> the length in cycles the session was known to have reached when first seen. */
  private readonly from: Int32Array;
  /** slot -> the last observation at which the session was running. */
  private readonly seen: Int32Array;
  /** Ended sessions, counted by `exact|lo|hi|from`; the last fit, the next one's start. */
  private readonly kept: { ended: Record<string, number>; total: number; shape: number; scale: number };

  constructor(private readonly ctx: Context) {
    const { capacity } = ctx.store;
    this.node = ctx.state.array('sessionNode', new Int32Array(capacity).fill(-1));
    this.stamp = ctx.state.array('sessionStamp', new Int32Array(capacity));
    this.since = ctx.state.array('sessionSince', new Int32Array(capacity));
    this.from = ctx.state.array('sessionFrom', new Int32Array(capacity));
    this.seen = ctx.state.array('sessionSeen', new Int32Array(capacity));
    this.kept = ctx.state.values('sessions', { ended: {}, total: 0, shape: NaN, scale: NaN });
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store, clock } = this.ctx;
    const now = clock.cycle;
    const { node, stamp, since, from, seen, kept } = this;
    const idOf = store.idOf, joinedAt = store.joinedAt;
    const running = new Map<string, number>();
    let runningCount = 0;
    for (let slot = 0; slot < store.capacity; slot++) {
      const live = store.isLive(slot);
      if (node[slot] >= 0 && !(live && idOf[slot] === node[slot] && joinedAt[slot] === stamp[slot])) {
        // Gone since the last observation, or gone and back already: then it was out of
        // the overlay at the latest in the cycle before the one it came back at.
        const endBy = live && idOf[slot] === node[slot] ? joinedAt[slot] - 1 : now;
        const key = `${since[slot] === 0 ? 1 : 0}|${seen[slot] - since[slot] + 1}|${endBy - since[slot]}|${from[slot]}`;
        kept.ended[key] = (kept.ended[key] ?? 0) + 1;
        kept.total++;
        node[slot] = -1;
      }
      if (!live) continue;
      if (node[slot] < 0) {
        node[slot] = idOf[slot];
        stamp[slot] = joinedAt[slot];
        // A node that cycle c's controls add is in the overlay from cycle c on.
        since[slot] = joinedAt[slot];
        from[slot] = now - since[slot] + 1;
      }
      seen[slot] = now;
      const key = `${since[slot] === 0 ? 1 : 0}|${now - since[slot] + 1}|${from[slot]}`;
      running.set(key, (running.get(key) ?? 0) + 1);
      runningCount++;
    }
    const records: SessionRecord[] = [];
    for (const [key, count] of Object.entries(kept.ended)) {
      const [exact, lo, hi, first] = key.split('|').map(Number);
      records.push({ exactStart: exact === 1, lo, hi, from: first, count });
    }
    for (const [key, count] of running) {
      const [exact, lo, first] = key.split('|').map(Number);
      records.push({ exactStart: exact === 1, lo, hi: Infinity, from: first, count });
    }
    const start = Number.isFinite(kept.shape) ? { shape: kept.shape, scale: kept.scale } : undefined;
    const fit = fitWeibull(records, start);
    kept.shape = fit.shape;
    kept.scale = fit.scale;
    emit('sessions_ended', kept.total);
    emit('sessions_running', runningCount);
    emit('session_shape', fit.shape);
    emit('session_scale', fit.scale);
  }
}

export const churnObserver = defineObserver({
  type: 'churn',
  description: 'live nodes, joins, leaves and failures since the last observation, mean age of live nodes; optionally a Weibull fit of session lengths',
  params,
  metrics: BASE_METRICS,
  // The fit models the cycle engine's timing of joins and leaves (session-fit.ts).
  check: (p, scenario) => (p.sessions && scenario.engine === 'event'
    ? [{ key: 'sessions', message: 'expected sessions only with the cycle engine, found engine event' }]
    : []),
  create: (ctx, p) => new ChurnObserver(ctx, p),
});
