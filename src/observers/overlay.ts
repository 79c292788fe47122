import { z } from 'zod';
import { defineObserver, type Context, type Linkable, type ObserverInstance } from '../engine/protocol.js';

const params = z.strictObject({
  protocol: z.string().optional().describe('the neighbour source to measure; default: the first protocol that has one'),
  sample: z.number().int().min(0).max(10_000_000).default(1000)
    .describe('nodes drawn (with replacement) for the clustering coefficient, at most 10^7; 0: no clustering (NaN)'),
  sources: z.number().int().min(0).default(1)
    .describe('BFS sources sampled for the path length, at most capacity (each costs a full BFS over every link); 0: no path length (NaN)'),
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
    this.scratch = new Int32Array(capacity); // BFS distances, union-find parents, clustering marks in turn
    this.queue = new Int32Array(capacity);
  }

  observe(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const live = store.size;
    emit('live', live);
    if (live === 0) {
      // No nodes: no links and no component; means over no nodes are undefined.
      for (const metric of ['indegree_mean', 'indegree_std', 'indegree_min', 'indegree_max']) emit(metric, NaN);
      emit('dead_links', 0);
      emit('largest_component', 0);
      emit('clustering', NaN);
      emit('path_length', NaN);
      return;
    }
    const dead = this.countInLinks();
    this.emitDegreeStats(emit);
    emit('dead_links', dead);
    // Path lengths come first: a BFS that reaches every live node already proves they
    // form one component, and then the union-find pass over every link is skipped.
    const path = this.p.sources > 0 ? this.pathLength() : undefined;
    emit('largest_component', path?.reachedAll ? live : this.largestComponent());
    // With no sampled nodes (sample or sources 0) the estimate is undefined.
    emit('clustering', this.p.sample > 0 ? this.clustering() : NaN);
    emit('path_length', path ? path.mean : NaN);
  }

  /** In-degrees of live nodes (links from live nodes) and the number of dead links. */
  private countInLinks(): number {
    const { store } = this.ctx;
    const links = this.links;
    const slotOfId = store.idMap();
    const indegree = this.indegree;
    for (let i = 0; i < store.size; i++) indegree[store.liveSlot(i)] = 0;
    let dead = 0;
    for (let i = 0; i < store.size; i++) {
      const u = store.liveSlot(i);
      const d = links.degree(u);
      for (let k = 0; k < d; k++) {
        const id = links.neighbor(u, k);
        const v = id < slotOfId.length ? slotOfId[id] : -1;
        if (v < 0) dead++;
        else indegree[v]++;
      }
    }
    return dead;
  }

  /** Size of the largest component, links taken as undirected (union-find by size, path halving). */
  private largestComponent(): number {
    const { store } = this.ctx;
    const links = this.links;
    const slotOfId = store.idMap();
    const parent = this.scratch;
    const size = this.queue;
    for (let i = 0; i < store.size; i++) {
      const u = store.liveSlot(i);
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
    let largest = 1;
    for (let i = 0; i < store.size; i++) {
      const u = store.liveSlot(i);
      const d = links.degree(u);
      for (let k = 0; k < d; k++) {
        const id = links.neighbor(u, k);
        const v = id < slotOfId.length ? slotOfId[id] : -1;
        if (v < 0) continue;
        let a = find(u), b = find(v);
        if (a === b) continue;
        if (size[a] < size[b]) { const t = a; a = b; b = t; }
        parent[b] = a;
        size[a] += size[b];
        if (size[a] > largest) largest = size[a];
      }
    }
    return largest;
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

  /**
   * Mean hop count from sampled sources to every live node they reach along live links;
   * and whether the first source reached every live node.
   */
  private pathLength(): { mean: number; reachedAll: boolean } {
    const { store, random } = this.ctx;
    const distance = this.scratch;
    const queue = this.queue;
    let hops = 0, reached = 0, reachedAll = false;
    for (let s = 0; s < this.p.sources; s++) {
      distance.fill(-1);
      const source = store.liveSlot(random.int(store.size));
      distance[source] = 0;
      queue[0] = source;
      let head = 0, tail = 1;
      while (head < tail) {
        const u = queue[head++];
        const next = distance[u] + 1;
        const d = this.links.degree(u);
        for (let k = 0; k < d; k++) {
          const v = store.slotOf(this.links.neighbor(u, k));
          if (v >= 0 && distance[v] < 0) {
            distance[v] = next;
            hops += next;
            queue[tail++] = v;
          }
        }
      }
      reached += tail - 1;
      if (s === 0) reachedAll = tail === store.size;
    }
    return { mean: reached === 0 ? 0 : hops / reached, reachedAll };
  }
}

export const overlay = defineObserver({
  type: 'overlay',
  description: 'overlay graph statistics: in-degree, dead links, largest component, clustering, path length',
  params,
  metrics: ['live', 'indegree_mean', 'indegree_std', 'indegree_min', 'indegree_max', 'dead_links', 'largest_component', 'clustering', 'path_length'],
  // More BFS sources than nodes can exist is a mistake (each one is a BFS over every link).
  check: (p, scenario) => (p.sources > scenario.capacity
    ? [{ key: 'sources', message: `expected at most capacity (${scenario.capacity}) sources, found ${p.sources}` }]
    : []),
  create: (ctx, p) => new OverlayObserver(ctx, p),
});
