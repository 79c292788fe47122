// An example of a protocol written outside pcsim: push gossip of one rumour
// (Demers et al.'s anti-entropy, the "infect forever" variant). Each cycle every
// informed node tells one peer drawn from a sampling service; the observer
// reports the fraction of live nodes informed. Load it with `plugins:` in a
// scenario (see scenarios/rumour.yaml).
import { defineObserver, defineProtocol, z, type Linkable, type ProtocolContext } from 'pcsim';

class Rumour {
  /** 1 where the node in that slot has heard the rumour: one byte per node, no objects. */
  readonly informed: Uint8Array;
  private peers?: Linkable;

  constructor(private readonly ctx: ProtocolContext, private readonly params: { sampler?: string; seeds: number }) {
    this.informed = new Uint8Array(ctx.store.capacity);
  }

  init(): void {
    this.peers = this.ctx.linkable(this.params.sampler);
    const { store } = this.ctx;
    for (let k = 0; k < this.params.seeds; k++) this.informed[store.liveSlot(this.ctx.initRandom.int(store.size))] = 1;
  }

  step(slot: number): void {
    if (!this.informed[slot]) return;
    const peer = this.ctx.store.slotOf(this.peers!.samplePeer(slot, this.ctx.random));
    if (peer >= 0) this.informed[peer] = 1;
  }
}

export const rumour = defineProtocol({
  type: 'rumour',
  description: 'push gossip of a single rumour (example plug-in)',
  params: z.strictObject({
    sampler: z.string().optional().describe('protocol to draw peers from; default: the first with a neighbour list'),
    seeds: z.number().int().min(1).default(1).describe('nodes that know the rumour at the start'),
  }),
  create: (ctx, params) => new Rumour(ctx, params),
});

export const rumourObserver = defineObserver({
  type: 'rumour',
  description: 'fraction of live nodes that heard the rumour (example plug-in)',
  params: z.strictObject({ protocol: z.string().default('rumour').describe('the rumour protocol instance') }),
  create: (ctx, params) => {
    const protocol = ctx.protocol(params.protocol) as unknown as Rumour;
    return {
      observe(emit) {
        const { store } = ctx;
        let informed = 0;
        for (let i = 0; i < store.size; i++) informed += protocol.informed[store.liveSlot(i)];
        emit('informed_fraction', informed / store.size);
      },
    };
  },
});
