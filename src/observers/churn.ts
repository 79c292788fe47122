import { z } from 'zod';
import { defineObserver } from '../engine/protocol.js';

/**
 * Population dynamics: live nodes, and how many joined, left (sessions ended) and
 * failed (crashes, outages) since the previous observation; mean age of live nodes
 * in cycles since they (re)joined (NaN when none is live).
 */
export const churnObserver = defineObserver({
  type: 'churn',
  description: 'live nodes, joins, leaves and failures since the last observation, mean age of live nodes',
  params: z.strictObject({}),
  metrics: ['live', 'joined', 'left', 'failed', 'mean_age'],
  create: (ctx) => {
    // The counts at the previous observation.
    const last = ctx.state.values('last', { joined: 0, left: 0, failed: 0 });
    return {
      observe(emit) {
        const { store, membership, clock } = ctx;
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
      },
    };
  },
});
