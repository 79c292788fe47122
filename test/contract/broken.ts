import { z } from 'zod';
import { defineProtocol, type Linkable, type ProtocolContext } from '../../src/engine/protocol.js';

/**
 * Protocols for testing the contract checks themselves: one that keeps the contract,
 * and one breaking each clause, which the matching check must report.
 */

const noParams = z.strictObject({});

/** Push gossip of one rumour, by the contract: declared state, peers through ctx.contact, harmless speed-ups. */
export const carefulRumour = defineProtocol({
  type: 'careful-rumour',
  description: 'a rumour, keeping the contract',
  params: noParams,
  create: (ctx: ProtocolContext) => {
    const informed = ctx.state.array('informed', new Uint8Array(ctx.store.capacity));
    const tally = ctx.state.values('tally', { pushes: 0 });
    let peers: Linkable;
    const step = (slot: number) => {
      if (!informed[slot]) return;
      const peer = ctx.contact(slot, peers.samplePeer(slot, ctx.random));
      if (peer < 0) return;
      informed[peer] = 1;
      tally.pushes++;
    };
    return {
      init() {
        peers = ctx.linkable();
        for (let k = 0; k < 5; k++) informed[ctx.store.liveSlot(ctx.initRandom.int(ctx.store.size))] = 1;
      },
      step,
      stepAll(order: Int32Array, from: number, to: number) {
        for (let i = from; i < to; i++) step(order[i]);
      },
      prefetch: (slot: number) => informed[slot],
      onJoin(slot: number, returning: boolean) {
        if (!returning) informed[slot] = 0;
      },
    };
  },
});

/** Its batched step counts each step twice. */
export const doubleCounting = defineProtocol({
  type: 'double-counting',
  description: 'a stepAll that differs from step',
  params: noParams,
  create: (ctx) => {
    const steps = ctx.state.array('steps', new Int32Array(ctx.store.capacity));
    return {
      step(slot: number) { steps[slot] += 1; },
      stepAll(order: Int32Array, from: number, to: number) {
        for (let i = from; i < to; i++) steps[order[i]] += 2;
      },
    };
  },
});

/** Its prefetch warms its node's state by writing it. */
export const writingPrefetch = defineProtocol({
  type: 'writing-prefetch',
  description: 'a prefetch that writes state',
  params: noParams,
  create: (ctx) => {
    const heat = ctx.state.array('heat', new Float64Array(ctx.store.capacity));
    return {
      step(slot: number) { heat[slot] = heat[slot] / 2 + 1; },
      prefetch(slot: number) {
        heat[slot] += 1;
        return 0;
      },
    };
  },
});

/** The rumour as first shipped: it looks its peer up itself and informs it, partition or not. */
export const crossingRumour = defineProtocol({
  type: 'crossing-rumour',
  description: 'a rumour that writes into a peer across a partition',
  params: noParams,
  create: (ctx) => {
    const informed = ctx.state.array('informed', new Uint8Array(ctx.store.capacity));
    let peers: Linkable;
    return {
      init() {
        peers = ctx.linkable();
        for (let k = 0; k < 5; k++) informed[ctx.store.liveSlot(ctx.initRandom.int(ctx.store.size))] = 1;
      },
      step(slot: number) {
        if (!informed[slot]) return;
        const peer = ctx.store.slotOf(peers.samplePeer(slot, ctx.random));
        if (peer >= 0) informed[peer] = 1;
      },
    };
  },
});

/** It numbers its steps in a variable of its own, which a checkpoint does not hold. */
export const undeclaredCounter = defineProtocol({
  type: 'undeclared-counter',
  description: 'state kept outside the declarations',
  params: noParams,
  create: (ctx) => {
    const numbered = ctx.state.array('numbered', new Int32Array(ctx.store.capacity));
    let steps = 0;
    return {
      step(slot: number) { numbered[slot] = ++steps; },
    };
  },
});

/** It keeps informing the last peer it reached, by slot, without asking whether that node is still there. */
export const stalePartner = defineProtocol({
  type: 'stale-partner',
  description: 'a rumour that writes into a peer gone offline or away',
  params: noParams,
  create: (ctx) => {
    const informed = ctx.state.array('informed', new Uint8Array(ctx.store.capacity));
    /** slot -> 1 + the slot of the last peer reached (0: none). */
    const partner = ctx.state.array('partner', new Int32Array(ctx.store.capacity));
    let peers: Linkable;
    return {
      init() {
        peers = ctx.linkable();
        for (let k = 0; k < 5; k++) informed[ctx.store.liveSlot(ctx.initRandom.int(ctx.store.size))] = 1;
      },
      step(slot: number) {
        if (!informed[slot]) return;
        const last = partner[slot] - 1;
        // The partition is respected; whether the node is still online is not.
        if (last >= 0 && ctx.network.reachable(slot, last)) informed[last] = 1;
        const peer = ctx.contact(slot, peers.samplePeer(slot, ctx.random));
        if (peer < 0) return;
        informed[peer] = 1;
        partner[slot] = peer + 1;
      },
    };
  },
});

export const brokenProtocols = [doubleCounting, writingPrefetch, crossingRumour, undeclaredCounter, stalePartner];
