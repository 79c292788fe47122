import { z } from 'zod';
import { defineObserver, type Context, type Linkable, type ObserverInstance } from '../engine/protocol.js';

const params = z.strictObject({
  protocol: z.string().optional().describe('the neighbour source to measure; default: the first protocol that has one'),
  sample: z.number().int().min(0).default(1000).describe('nodes sampled for the clustering coefficient'),
  sources: z.number().int().min(0).default(1).describe('BFS sources sampled for the path length (each costs a full BFS: about 0.7 s at 10^6 nodes)'),
});
type OverlayParams = z.infer<typeof params>;

/**
 * Graph statistics of an overlay. Links count only from live nodes; a link naming a
 * departed node is a dead link. In-degrees, dead links and the largest (undirected)
 * component are exact; clustering and path length are estimated over sampled nodes,
 * on the directed graph of live-to-live links (PeerSim's GraphStats with undir=false).
 */
class OverlayObserver implements ObserverInstance {
  private readonly links: Linkable;
  private readonly indegree: Int32Array;
  private readonly scratch: Int32Array;
  private readonly queue: Int32Array;

  constructor(private readonly ctx: Context, private readonly p: OverlayParams) {
    this.links = ctx.linkable(p.protocol);
    const capacity = ctx.store.capacity;
    this.indegree = new Int32Array(capacity);
    this.scratch = new Int32Array(capacity); // union-find parents, then BFS distances, then clustering marks
    this.queue = new Int32Array(capacity);
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const live = store.size;
    emit('live', live);
    if (live === 0) return;
    const { dead, largest } = this.scanLinks();
    this.emitDegreeStats(emit);
    emit('dead_links', dead);
    emit('largest_component', largest);
    if (this.p.sample > 0) emit('clustering', this.clustering());
    if (this.p.sources > 0) emit('path_length', this.pathLength());
  }

  /**
   * One pass over every link of every live node: in-degrees, dead links, and the
   * undirected components (union-find by size with path halving). At 10^6 nodes
   * this is 2*10^7 links, so each is looked up once and serves all three.
   */
  private scanLinks(): { dead: number; largest: number } {
    const { store } = this.ctx;
    const links = this.links;
    const slotOfId = store.idMap();
    const indegree = this.indegree;
    const parent = this.scratch;
    const size = this.queue;
    const live = store.size;
    for (let i = 0; i < live; i++) {
      const u = store.liveSlot(i);
      indegree[u] = 0;
      parent[u] = u;
      size[u] = 1;
    }
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
      }
      return x;
    };
    let dead = 0;
    let largest = 1;
    for (let i = 0; i < live; i++) {
      const u = store.liveSlot(i);
      const d = links.degree(u);
      for (let k = 0; k < d; k++) {
        const id = links.neighbor(u, k);
        const v = id < slotOfId.length ? slotOfId[id] : -1;
        if (v < 0) { dead++; continue; }
        indegree[v]++;
        let a = find(u), b = find(v);
        if (a === b) continue;
        if (size[a] < size[b]) { const t = a; a = b; b = t; }
        parent[b] = a;
        size[a] += size[b];
        if (size[a] > largest) largest = size[a];
      }
    }
    return { dead, largest };
  }

  /** In-degree mean, standard deviation (two passes: stable where sum-of-squares is not), min, max. */
  private emitDegreeStats(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const indegree = this.indegree;
    let sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < store.size; i++) {
      const x = indegree[store.liveSlot(i)];
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const mean = sum / store.size;
    let squares = 0;
    for (let i = 0; i < store.size; i++) {
      const delta = indegree[store.liveSlot(i)] - mean;
      squares += delta * delta;
    }
    emit('indegree_mean', mean);
    emit('indegree_std', Math.sqrt(squares / store.size));
    emit('indegree_min', min);
    emit('indegree_max', max);
  }

  /** Mean local clustering coefficient of sampled live nodes, over their live out-neighbours. */
  private clustering(): number {
    const { store, random } = this.ctx;
    const mark = this.scratch;
    mark.fill(-1);
    const members = this.queue;
    let total = 0;
    for (let s = 0; s < this.p.sample; s++) {
      const u = store.liveSlot(random.int(store.size));
      let k = 0;
      const d = this.links.degree(u);
      for (let i = 0; i < d; i++) {
        const v = store.slotOf(this.links.neighbor(u, i));
        if (v >= 0 && v !== u && mark[v] !== s) { mark[v] = s; members[k++] = v; }
      }
      if (k < 2) continue;
      let links = 0;
      for (let i = 0; i < k; i++) {
        const a = members[i];
        const da = this.links.degree(a);
        for (let j = 0; j < da; j++) {
          const b = store.slotOf(this.links.neighbor(a, j));
          if (b >= 0 && b !== a && mark[b] === s) links++;
        }
      }
      total += links / (k * (k - 1));
    }
    return total / this.p.sample;
  }

  /** Mean hop count from sampled sources to every live node they reach along live links. */
  private pathLength(): number {
    const { store, random } = this.ctx;
    const distance = this.scratch;
    const queue = this.queue;
    let hops = 0, reached = 0;
    for (let s = 0; s < this.p.sources; s++) {
      distance.fill(-1);
      const source = store.liveSlot(random.int(store.size));
      distance[source] = 0;
      queue[0] = source;
      let head = 0, tail = 1;
      while (head < tail) {
        const u = queue[head++];
        const d = this.links.degree(u);
        for (let k = 0; k < d; k++) {
          const v = store.slotOf(this.links.neighbor(u, k));
          if (v >= 0 && distance[v] < 0) {
            distance[v] = distance[u] + 1;
            hops += distance[v];
            reached++;
            queue[tail++] = v;
          }
        }
      }
    }
    return reached === 0 ? 0 : hops / reached;
  }
}

export const overlay = defineObserver({
  type: 'overlay',
  description: 'overlay graph statistics: in-degree, dead links, largest component, clustering, path length',
  params,
  create: (ctx, p) => new OverlayObserver(ctx, p),
});
