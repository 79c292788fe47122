import { extname, resolve } from 'node:path';
import { z } from 'zod';
import { defineControl, type Context } from '../engine/protocol.js';
import { ScenarioError } from '../engine/errors.js';
import { readTrace, type AvailabilityTrace } from './trace-file.js';
import type { TimedControl } from '../engine/timed-control.js';

const params = z.strictObject({
  file: z.string().describe('the trace: .avt (Godfrey) or .csv (node,up_start,up_end); relative to the scenario file'),
  format: z.enum(['avt', 'csv']).optional().describe('default: from the file extension'),
  unit: z.number().positive().default(1).describe('trace seconds per cycle'),
});
type TraceParams = z.infer<typeof params>;

/**
 * Replays an availability trace. Traced node k is the k-th initial node (by slot);
 * initial nodes beyond the trace's stay up throughout. A node is up at cycle c when
 * some interval [start, end) of its holds c * unit: it joins (or returns, with its old
 * id and state) at the first cycle at or after `start`, and leaves at the first cycle
 * at or after `end`. Its events are sorted by time: the engine runs it only when the
 * next one is due (TimedControl).
 */
class TraceReplay implements TimedControl {
  private readonly trace: AvailabilityTrace;
  /** Up and down events sorted by time (downs first at equal times, then by node): [time, node, up]. */
  private readonly events: [number, number, boolean][];
  /** The next event to apply. */
  private readonly cursor: { next: number };
  /** Traced node -> its slot (the initial nodes': init derives it alike in every run, so it needs no saving). */
  private readonly slotOf: Int32Array;
  /** Traced node -> number of its intervals covering the current time (overlaps allowed). */
  private readonly cover: Int32Array;

  constructor(private readonly ctx: Context, private readonly p: TraceParams) {
    const format = p.format ?? (extname(p.file).toLowerCase() === '.csv' ? 'csv' : 'avt');
    const keyPath = `controls.${ctx.name}.file`;
    this.trace = readTrace(resolve(ctx.scenario.dir, p.file), format, keyPath);
    if (this.trace.nodes.length > ctx.store.size) {
      throw new ScenarioError(keyPath, `expected a trace of at most size (${ctx.store.size}) nodes, found ${this.trace.nodes.length}: raise size to at least ${this.trace.nodes.length}`);
    }
    this.events = [];
    for (const { node, start, end } of this.trace.intervals) {
      if (end <= start) continue;
      this.events.push([start, node, true], [end, node, false]);
    }
    this.events.sort((a, b) => a[0] - b[0] || Number(a[2]) - Number(b[2]) || a[1] - b[1]);
    this.slotOf = new Int32Array(this.trace.nodes.length);
    this.cover = ctx.state.array('cover', new Int32Array(this.trace.nodes.length));
    this.cursor = ctx.state.values('cursor', { next: 0 });
  }

  init(): void {
    const { store, membership } = this.ctx;
    for (let k = 0; k < this.slotOf.length; k++) this.slotOf[k] = store.liveSlot(k);
    this.advance(0);
    // Nodes the trace does not show up at time 0 start offline, keeping their initial state.
    for (let k = 0; k < this.slotOf.length; k++) if (this.cover[k] === 0) membership.suspend(this.slotOf[k], 'leave');
  }

  execute(cycle: number): void {
    this.advance(cycle * this.p.unit);
  }

  isDue(cycle: number): boolean {
    return this.cursor.next < this.events.length && this.events[this.cursor.next][0] <= cycle * this.p.unit;
  }

  dueAt(): number {
    return this.cursor.next < this.events.length ? this.events[this.cursor.next][0] / this.p.unit : Infinity;
  }

  /** Applies every event at or before trace time `time`. */
  private advance(time: number): void {
    const { store, membership } = this.ctx;
    const { cursor, events } = this;
    const initial = cursor.next === 0 && time === 0;
    while (cursor.next < events.length && events[cursor.next][0] <= time) {
      const [, node, up] = events[cursor.next++];
      const slot = this.slotOf[node];
      if (up) {
        if (this.cover[node]++ === 0 && !initial && store.offline[slot]) membership.resume(slot);
      } else if (--this.cover[node] === 0 && !initial && store.alive[slot]) {
        membership.suspend(slot, 'leave');
      }
    }
  }
}

export const trace = defineControl({
  type: 'trace',
  description: 'replays an availability trace (.avt or node,up_start,up_end CSV)',
  params,
  continuous: true,
  create: (ctx, p) => new TraceReplay(ctx, p),
});
