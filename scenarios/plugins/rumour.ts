// plugins/rumour.ts: push gossip of one rumour (Demers et al.'s "infect forever")
import { defineProtocol, z, type Linkable, type ProtocolContext } from 'pcsim';

const rumourParams = z.strictObject({
  sampler: z.string().optional().describe('protocol to draw peers from; default: the first with a neighbour list'),
  seeds: z.number().int().min(1).default(1).describe('nodes that know the rumour at the start'),
});

export class Rumour {
  /** 1 where the node in that slot has heard the rumour: one byte per slot, no objects. */
  readonly informed: Uint8Array;
  private peers!: Linkable;

  constructor(private readonly ctx: ProtocolContext, private readonly params: z.infer<typeof rumourParams>) {
    // Declared: checkpoints save it, and resuming puts it back.
    this.informed = ctx.state.array('informed', new Uint8Array(ctx.store.capacity));
  }

  init(): void {
    this.peers = this.ctx.linkable(this.params.sampler);
    const { store, initRandom } = this.ctx;
    for (let k = 0; k < this.params.seeds; k++) this.informed[store.liveSlot(initRandom.int(store.size))] = 1;
  }

  step(slot: number): void {
    if (!this.informed[slot]) return;
    const id = this.peers.samplePeer(slot, this.ctx.random); // a node id, or -1
    const peer = this.ctx.contact(slot, id); // its slot, or -1: it has left, or a partition cuts it off
    if (peer >= 0) this.informed[peer] = 1;
  }

  onJoin(slot: number, returning: boolean): void {
    if (!returning) this.informed[slot] = 0; // a new node in a slot someone left
  }
}

export const rumour = defineProtocol({
  type: 'rumour',
  description: 'push gossip of a single rumour',
  params: rumourParams,
  create: (ctx, params) => new Rumour(ctx, params),
});
