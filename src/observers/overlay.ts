import { z } from 'zod';
import { defineObserver, type Context, type Linkable, type ObserverInstance } from '../engine/protocol.js';
import type { NodeStore } from '../engine/node-store.js';
import { InDegrees } from './in-degrees.js';

const params = z.strictObject({
  protocol: z.string().optional().describe('the neighbour source to measure; default: the first protocol that has one'),
  sample: z.number().int().min(0).max(10_000_000).default(1000)
    .describe('nodes drawn (with replacement) for the clustering coefficient, at most 10^7; 0: no clustering (NaN)'),
  sources: z.number().int().min(0).default(1)
    .describe('BFS sources sampled for the path length, at most capacity (each costs a full BFS over every link); 0: no path length (NaN)'),
  components: z.boolean().default(false)
    .describe('also emit components (connected components, links taken as undirected), outside_largest (live nodes outside the largest) and largest_fraction (the largest component over the live nodes)'),
});
type OverlayParams = z.infer<typeof params>;

/**
 * Graph statistics of an overlay. Links count only from live nodes; a link naming a
 * departed node is a dead link. In-degrees, dead links and the largest (undirected)
 * component are exact; clustering and path length are estimated over sampled nodes,
 * on the directed graph of live-to-live links (PeerSim's GraphStats with undir=false).
 *
 * Built to scale (about 5 s per observation at 10^7 nodes, linear in the links), with
 * every metric computed as exactly as before: the passes read the nodes' neighbour lists
 * in slot order (memory order); what is looked up at random (is this neighbour live, was
 * it reached) is one bit per slot, which stays in cache; in-degrees are byte counters
 * incremented region by region (InDegrees). The BFS goes level by level, a large level
 * in slot order over a bitmap, a small one from a list (its mean hop count is a
 * queue-based BFS's: distances are unique). The union-find array is allocated only
 * when a BFS leaves nodes unreached (or there is none).
 */
class OverlayObserver implements ObserverInstance {
  private readonly links: Linkable;
  /** Live slot -> its in-degree. */
  private readonly indegree: InDegrees;
  /** Bitmaps of slots for the BFS: reached so far, this level, the next one. */
  private readonly reached: Int32Array;
  private readonly frontier: Int32Array;
  private readonly nextFrontier: Int32Array;
  /** A level's nodes as a list, while they are few (at most one per 32 slots). */
  private readonly list: Int32Array;
  private readonly nextList: Int32Array;
  /** A clustered node's live out-neighbours (sorted, for the membership tests). */
  private members = new Int32Array(64);
  /** The metrics, when `components` adds to the usual ones (else the definition's). */
  readonly metrics?: readonly string[];

  constructor(private readonly ctx: Context, private readonly p: OverlayParams) {
    this.links = ctx.linkable(p.protocol);
    const capacity = ctx.store.capacity;
    this.indegree = new InDegrees(capacity);
    const words = Math.ceil(capacity / 32);
    this.reached = new Int32Array(words);
    this.frontier = new Int32Array(words);
    this.nextFrontier = new Int32Array(words);
    this.list = new Int32Array(words + 1);
    this.nextList = new Int32Array(words + 1);
    if (p.components) this.metrics = [...OVERLAY_METRICS, ...COMPONENT_METRICS];
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
      if (this.p.components) {
        emit('components', 0);
        emit('outside_largest', 0);
        emit('largest_fraction', NaN);
      }
      return;
    }
    const dead = this.countInLinks();
    this.emitDegreeStats(emit);
    emit('dead_links', dead);
    // Path lengths come first: a BFS that reaches every live node already proves they
    // form one component, and then the union-find pass over every link is skipped.
    const path = this.p.sources > 0 ? this.pathLength() : undefined;
    const components = path?.reachedAll ? { largest: live, count: 1 } : this.largestComponent();
    emit('largest_component', components.largest);
    // With no sampled nodes (sample or sources 0) the estimate is undefined.
    emit('clustering', this.p.sample > 0 ? this.clustering() : NaN);
    emit('path_length', path ? path.mean : NaN);
    if (this.p.components) {
      emit('components', components.count);
      emit('outside_largest', live - components.largest);
      emit('largest_fraction', components.largest / live);
    }
  }

  /** In-degrees of live nodes (links from live nodes) and the number of dead links, in one pass in slot order. */
  private countInLinks(): number {
    const { store } = this.ctx;
    const links = this.links;
    const indegree = this.indegree;
    const alive = store.alive;
    const capacity = store.capacity;
    indegree.clear();
    let dead = 0;
    if (everyIdIsLive(store)) {
      // Every issued id is live, in the slot equal to it.
      const issued = store.idsIssued;
      for (let u = 0; u < capacity; u++) {
        if (alive[u] === 0) continue;
        const d = links.degree(u);
        for (let k = 0; k < d; k++) {
          const v = links.neighbor(u, k);
          if (v >>> 0 < issued) indegree.add(v);
          else dead++;
        }
      }
    } else {
      for (let u = 0; u < capacity; u++) {
        if (alive[u] === 0) continue;
        const d = links.degree(u);
        for (let k = 0; k < d; k++) {
          const v = slotOfLive(store, links.neighbor(u, k));
          if (v < 0) dead++;
          else indegree.add(v);
        }
      }
    }
    indegree.flush();
    return dead;
  }

  /**
   * Size of the largest component and the number of components, links taken as
   * undirected (union-find by size, path halving).
   */
  private largestComponent(): { largest: number; count: number } {
    const { store } = this.ctx;
    const links = this.links;
    const capacity = store.capacity;
    const alive = store.alive;
    // Allocated only when needed: a connected overlay never gets here with a BFS source.
    // A root holds minus its tree's size; any other node its parent.
    const parent = new Int32Array(capacity).fill(-1);
    const find = (x: number): number => {
      while (parent[x] >= 0) {
        const up = parent[x];
        if (parent[up] >= 0) parent[x] = parent[up];
        x = up;
      }
      return x;
    };
    let largest = 1;
    // Every live node starts as its own component; each union merges two.
    let count = store.size;
    for (let u = 0; u < capacity; u++) {
      if (alive[u] === 0) continue;
      const d = links.degree(u);
      for (let k = 0; k < d; k++) {
        const v = slotOfLive(store, links.neighbor(u, k));
        if (v < 0) continue;
        let a = find(u), b = find(v);
        if (a === b) continue;
        if (parent[a] > parent[b]) { const t = a; a = b; b = t; }
        parent[a] += parent[b];
        parent[b] = a;
        count--;
        if (-parent[a] > largest) largest = -parent[a];
      }
    }
    return { largest, count };
  }

  /** In-degree mean, standard deviation (two passes: stable where sum-of-squares is not), min, max. */
  private emitDegreeStats(emit: (metric: string, value: number) => void): void {
    const { store } = this.ctx;
    const indegree = this.indegree;
    let sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < store.size; i++) {
      const x = indegree.of(store.liveSlot(i));
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const mean = sum / store.size;
    // In the live list's order, as the sum of squares' rounding depends on it.
    let squares = 0;
    for (let i = 0; i < store.size; i++) {
      const delta = indegree.of(store.liveSlot(i)) - mean;
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
    const links = this.links;
    let total = 0;
    for (let s = 0; s < this.p.sample; s++) {
      const u = store.liveSlot(random.int(store.size));
      const d = links.degree(u);
      if (this.members.length < d) this.members = new Int32Array(Math.max(d, 2 * this.members.length));
      const members = this.members;
      let k = 0;
      for (let i = 0; i < d; i++) {
        const v = slotOfLive(store, links.neighbor(u, i));
        if (v >= 0 && v !== u) members[k++] = v;
      }
      // Distinct members, sorted: a membership test is then a binary search.
      k = distinctSorted(members, k);
      if (k < 2) continue;
      let linked = 0;
      for (let i = 0; i < k; i++) {
        const a = members[i];
        const da = links.degree(a);
        for (let j = 0; j < da; j++) {
          const b = slotOfLive(store, links.neighbor(a, j));
          if (b >= 0 && b !== a && contains(members, k, b)) linked++;
        }
      }
      total += linked / (k * (k - 1));
    }
    return total / this.p.sample;
  }

  /**
   * Mean hop count from sampled sources to every live node they reach along live links;
   * and whether the first source reached every live node. Level by level: a level of
   * many nodes is visited in slot order (a scan of its bitmap), so that their neighbour
   * lists are read in memory order; a level of few, from a list (so that a graph of
   * large diameter costs no scan per level).
   */
  private pathLength(): { mean: number; reachedAll: boolean } {
    const { store, random } = this.ctx;
    const links = this.links;
    const reached = this.reached;
    let hops = 0, total = 0, reachedAll = false;
    for (let s = 0; s < this.p.sources; s++) {
      reached.fill(0);
      let frontier = this.frontier;
      let next = this.nextFrontier;
      let list = this.list;
      let nextList = this.nextList;
      frontier.fill(0);
      next.fill(0);
      const source = store.liveSlot(random.int(store.size));
      reached[source >> 5] |= 1 << source;
      frontier[source >> 5] |= 1 << source;
      list[0] = source;
      let size = 1;
      let count = 0;
      for (let level = 1; size > 0; level++) {
        const listed = size <= list.length;
        let found = 0;
        if (listed) {
          for (let i = 0; i < size; i++) found = this.visit(list[i], found, next, nextList);
          for (let i = 0; i < size; i++) frontier[list[i] >> 5] = 0;
        } else {
          for (let w = 0; w < frontier.length; w++) {
            let word = frontier[w];
            while (word !== 0) {
              const low = word & -word;
              word ^= low;
              found = this.visit((w << 5) | (31 - Math.clz32(low)), found, next, nextList);
            }
          }
          frontier.fill(0);
        }
        hops += level * found;
        count += found;
        size = found;
        const t = frontier; frontier = next; next = t;
        const l = list; list = nextList; nextList = l;
      }
      total += count;
      if (s === 0) reachedAll = count + 1 === store.size;
    }
    return { mean: total === 0 ? 0 : hops / total, reachedAll };
  }

  /**
   * One node `u` of a BFS level: marks its unreached live out-neighbours as reached and
   * as members of the next level (`found` of them so far; the list keeps what fits).
   * Returns the new count.
   */
  private visit(u: number, found: number, next: Int32Array, nextList: Int32Array): number {
    const { store } = this.ctx;
    const links = this.links;
    const reached = this.reached;
    const d = links.degree(u);
    const allLive = everyIdIsLive(store);
    for (let k = 0; k < d; k++) {
      const v = allLive ? links.neighbor(u, k) : slotOfLive(store, links.neighbor(u, k));
      if (allLive ? v >>> 0 >= store.idsIssued : v < 0) continue;
      if (((reached[v >> 5] >>> v) & 1) === 1) continue;
      reached[v >> 5] |= 1 << v;
      next[v >> 5] |= 1 << v;
      if (found < nextList.length) nextList[found] = v;
      found++;
    }
    return found;
  }
}

/**
 * Whether every id a link can name is live: no node has left or gone offline yet (ids
 * are issued in order, so links name issued ids), and slots are ids.
 */
function everyIdIsLive(store: NodeStore): boolean {
  return store.slotsAreIds && store.size === store.idsIssued;
}

/** Slot of a live node's id, or -1: one bit while slots are ids, else the store's table. */
function slotOfLive(store: NodeStore, id: number): number {
  if (!store.slotsAreIds) return store.slotOf(id);
  return id >>> 0 < store.capacity && ((store.liveBitmap[id >> 5] >>> id) & 1) === 1 ? id : -1;
}

/** Sorts values[0..n) and drops repeats; returns how many distinct values are left in front. */
function distinctSorted(values: Int32Array, n: number): number {
  const sorted = values.subarray(0, n).sort();
  let k = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) values[k++] = sorted[i];
  return k;
}

/** Whether sorted values[0..n) hold x. */
function contains(values: Int32Array, n: number, x: number): boolean {
  let lo = 0, hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else if (values[mid] > x) hi = mid - 1;
    else return true;
  }
  return false;
}

const OVERLAY_METRICS = ['live', 'indegree_mean', 'indegree_std', 'indegree_min', 'indegree_max', 'dead_links', 'largest_component', 'clustering', 'path_length'];
const COMPONENT_METRICS = ['components', 'outside_largest', 'largest_fraction'];

export const overlay = defineObserver({
  type: 'overlay',
  description: 'overlay graph statistics: in-degree, dead links, largest component, clustering, path length',
  params,
  metrics: OVERLAY_METRICS,
  // More BFS sources than nodes can exist is a mistake (each one is a BFS over every link).
  check: (p, scenario) => (p.sources > scenario.capacity
    ? [{ key: 'sources', message: `expected at most capacity (${scenario.capacity}) sources, found ${p.sources}` }]
    : []),
  create: (ctx, p) => new OverlayObserver(ctx, p),
});
