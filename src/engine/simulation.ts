import './jit-tuning.js';
import { sampler } from './distributions.js';
import { EventLoop } from './event-loop.js';
import { NodeStore } from './node-store.js';
import { UniformObservations } from './observation.js';
import { Network } from './network.js';
import type { Context, ControlInstance, Departure, Linkable, Membership, ProtocolInstance } from './protocol.js';
import { RandomStreams, type Random } from './random.js';
import type { Registry } from './registry.js';
import { describeError } from './describe-error.js';
import { ScenarioError } from './errors.js';
import { didYouMean } from './suggest.js';
import { scheduled, type Scenario, type Schedule } from './config.js';
import { WorldState, type Section, type StateArray } from './state.js';
import { firstDueTime, isTimed } from './timed-control.js';

/** Receives each observed value: one CSV row. `at` is the cycle, or the time in ms in the event engine. */
export type MetricSink = (at: number, observer: string, metric: string, value: number) => void;

/** Nodes each protocol handles before the next takes its turn (see runCycle). */
const INTERLEAVE = 64;

interface Scheduled<I> { readonly name: string; readonly schedule: Schedule; readonly instance: I }

export interface SimulationOptions {
  /** Tests: wraps each typed array an instance declares (`protocols.x/name`), e.g. to watch which slots a step touches. */
  readonly wrapState?: (name: string, array: StateArray) => StateArray;
  /**
   * Told where the build stands: as each step of it begins, and every 65,536 nodes in
   * the step that goes over the nodes one by one (adding them).
   */
  readonly onSetup?: (progress: SetupProgress) => void;
}

/** A step of building a run: `nodes`, `protocols.x`, `protocols.x.init`, `event timers`, `controls.x`, `controls.x.init`, `observers.x`. */
export interface SetupProgress {
  readonly step: string;
  /** Nodes the step has handled, of `total` (both 0 for a step not counted by node). */
  readonly done: number;
  readonly total: number;
}

/** Seconds a run spent since it was built: in cycles (controls and protocol steps; the event engine's events), and in observations. */
export interface RunTimings {
  cycleSeconds: number;
  observerSeconds: number;
}

/** Nodes between two setup progress reports. */
const SETUP_BLOCK = 65536;

/**
 * The cycle-driven engine (PeerSim's CDSimulator). Cycle k runs the controls
 * scheduled at k, then every protocol over every live node in a freshly shuffled
 * order, then the observers scheduled at k. Observers also see cycle 0, the
 * initial state.
 *
 * Protocols take turns over chunks of 64 nodes of the order (Cyclon's steps for
 * nodes 0-63, then aggregation's for the same nodes, then 64-127...): PeerSim
 * interleaves them node by node; with independent streams per protocol the
 * difference is immaterial, and chunks let each run a tight loop over its own arrays
 * while the nodes' state is still in cache.
 *
 * With `engine: event` the same instances run in the event-driven engine
 * (EventLoop): each node's timer fires every period at its own phase, messages take
 * the transport's latency, and observers and controls run at simulated times (ms).
 */
export class Simulation {
  readonly store: NodeStore;
  readonly streams: RandomStreams;
  /** Every piece of state, by name: what a checkpoint saves. */
  readonly state = new WorldState();
  /**
   * The one clock: `time` in the engine's unit (cycles; ms in the event engine), on which
   * protocols, controls and observers are all scheduled; `cycle`, the whole cycles
   * (periods) elapsed, is derived from it.
   */
  readonly clock = { cycle: 0, time: 0 };
  /** The event engine's queue, network model and timers (event mode only). */
  readonly eventLoop?: EventLoop;
  readonly protocols = new Map<string, ProtocolInstance>();
  private readonly observers: (Scheduled<UniformObservations> & { readonly summary?: () => Record<string, unknown> })[] = [];
  private readonly controls: Scheduled<ControlInstance>[] = [];
  private readonly order: Int32Array;
  private readonly engineRandom: Random;
  private stopped = false;
  /** Event engine: the last time (ms) at which controls and observers were considered. */
  private considered = 0;
  /**
   * Cycle engine: the cycle being run, which a node joining or coming back is stamped
   * with (store.joinedAt). The clock still reads the cycle before while this one's
   * controls and steps run (protocols see that one value throughout: Cyclon's clock
   * ageing and Newscast's stamps count from it), so it is kept apart; between cycles
   * it equals clock.cycle.
   */
  private cycleRunning = 0;
  private readonly counts = { joined: 0, left: 0, failed: 0 };
  /** Each attribute's draw for the nodes that join; `values` once the attribute is drawn (see NodeStore.deferAttribute). */
  private readonly attributeDraws: { name: string; values?: Float64Array; draw: (random: Random) => number; random: Random }[] = [];
  readonly network = new Network();
  /** Where the time went since the run was built (wall-clock: not part of a checkpoint). */
  readonly timings: RunTimings = { cycleSeconds: 0, observerSeconds: 0 };
  /** Joins and leaves, with every protocol told: what controls use to change the population. */
  readonly membership: Membership = (() => {
    const counts = this.counts;
    const depart = (slot: number, how: Departure, temporary: boolean) => {
      for (const protocol of this.protocols.values()) protocol.onLeave?.(slot, temporary);
      this.eventLoop?.stopTimers(slot);
      if (how === 'fail') counts.failed++;
      else counts.left++;
    };
    return {
      counts,
      join: (): number => {
        this.store.settleAttributes();
        const slot = this.store.add(this.joiningCycle);
        for (const attribute of this.attributeDraws) {
          attribute.values ??= this.store.attribute(attribute.name);
          attribute.values[slot] = attribute.draw(attribute.random);
        }
        for (const protocol of this.protocols.values()) protocol.onJoin?.(slot, false);
        this.eventLoop?.startTimers(slot);
        counts.joined++;
        return slot;
      },
      leave: (slot: number, how: Departure = 'leave'): void => {
        this.store.settleAttributes();
        if (this.store.isLive(slot)) depart(slot, how, false);
        this.store.remove(slot);
      },
      suspend: (slot: number, how: Departure = 'leave'): void => {
        this.store.settleAttributes();
        depart(slot, how, true);
        this.store.suspend(slot);
      },
      resume: (slot: number): void => {
        this.store.settleAttributes();
        this.store.resume(slot, this.joiningCycle);
        for (const protocol of this.protocols.values()) protocol.onJoin?.(slot, true);
        this.eventLoop?.startTimers(slot);
        counts.joined++;
      },
    };
  })();

  constructor(readonly scenario: Scenario, registry: Registry, private readonly options: SimulationOptions = {}) {
    this.streams = new RandomStreams(scenario.seed);
    this.engineRandom = this.streams.stream('engine');
    this.store = new NodeStore(scenario.capacity);
    this.order = new Int32Array(scenario.capacity);
    this.registerEngineState();
    const setup = options.onSetup ?? (() => {});

    for (let from = 0; from < scenario.size; from += SETUP_BLOCK) {
      setup({ step: 'nodes', done: from, total: scenario.size });
      const to = Math.min(from + SETUP_BLOCK, scenario.size);
      for (let i = from; i < to; i++) this.store.add(0);
    }
    // Drawn, for the nodes in the store's order, when first read: a run no part of which
    // reads an attribute never holds it. The draws are the same whenever that happens,
    // since the attribute has a stream of its own and the population does not change
    // before (membership settles the attributes first).
    for (const [name, spec] of Object.entries(scenario.attributes)) {
      const attribute = { name, draw: sampler(spec), random: this.streams.stream(`attribute/${name}`) };
      const { draw, random } = attribute;
      this.store.deferAttribute(name, (values) => {
        for (let i = 0; i < this.store.size; i++) values[this.store.liveSlot(i)] = draw(random);
      });
      this.attributeDraws.push(attribute);
    }

    const protocolList: ProtocolInstance[] = [];
    if (scenario.engine === 'event') {
      this.eventLoop = new EventLoop(scenario.event, scenario.transport, this.store, this.network, protocolList,
        this.engineRandom, this.streams.stream('transport'), this.clock);
      const loop = this.eventLoop;
      this.state.engine('engine/events', { save: () => loop.save(), restore: (saved: any) => loop.restore(saved) });
    }
    for (const [name, spec] of Object.entries(scenario.protocols)) {
      const definition = registry.protocols.get(spec.type)!;
      const context = { ...this.context(`protocols.${name}`, name, `protocol/${name}`), initRandom: this.streams.stream(`init/${name}`) };
      setup({ step: `protocols.${name}`, done: 0, total: 0 });
      const instance = creating(`protocols.${name}`, () => definition.create(context, spec.params));
      this.protocols.set(name, instance);
      protocolList.push(instance);
    }
    for (const [name, instance] of this.protocols) {
      setup({ step: `protocols.${name}.init`, done: 0, total: 0 });
      creating(`protocols.${name}`, () => instance.init?.());
    }
    if (this.eventLoop) {
      setup({ step: 'event timers', done: 0, total: 0 });
      this.eventLoop.start();
    }

    for (const [name, spec] of Object.entries(scenario.controls)) {
      const context = this.context(`controls.${name}`, name, `control/${name}`);
      setup({ step: `controls.${name}`, done: 0, total: 0 });
      const instance = creating(`controls.${name}`, () => registry.controls.get(spec.type)!.create(context, spec.params));
      this.controls.push({ name, schedule: spec.schedule, instance });
    }
    for (const { name, instance } of this.controls) {
      setup({ step: `controls.${name}.init`, done: 0, total: 0 });
      creating(`controls.${name}`, () => instance.init?.());
    }
    for (const [name, spec] of Object.entries(scenario.observers)) {
      const context = this.context(`observers.${name}`, name, `observer/${name}`);
      setup({ step: `observers.${name}`, done: 0, total: 0 });
      const definition = registry.observers.get(spec.type)!;
      const observer = creating(`observers.${name}`, () => definition.create(context, spec.params));
      const instance = creating(`observers.${name}`, () => new UniformObservations(`observers.${name}`, observer, observer.metrics ?? definition.metrics));
      this.observers.push({ name, schedule: spec.schedule, instance, summary: observer.summary?.bind(observer) });
    }
  }

  /** A control instance by name (for tests and tools that read its state). */
  control(name: string): ControlInstance | undefined {
    return this.controls.find((c) => c.name === name)?.instance;
  }

  get done(): boolean {
    return this.stopped || this.clock.cycle >= this.scenario.cycles;
  }

  /** Where the run stands in the observers' and controls' unit: the cycle, or the time (ms) in the event engine. */
  private get now(): number {
    return this.clock.time;
  }

  /** The cycle a node joining or coming back now joins at: the one being run (floor(time / period) in the event engine). */
  private get joiningCycle(): number {
    return this.eventLoop ? this.clock.cycle : this.cycleRunning;
  }

  /** The end of the run in that unit. */
  private get end(): number {
    return this.eventLoop ? this.scenario.cycles * this.scenario.event.period : this.scenario.cycles;
  }

  /** Runs the observers scheduled now. */
  observe(sink: MetricSink): void {
    const at = this.now;
    const started = performance.now();
    for (const { name, schedule, instance } of this.observers) {
      if (scheduled(schedule, at, this.end)) {
        instance.observe((metric, value) => sink(at, name, metric, value));
      }
    }
    this.timings.observerSeconds += (performance.now() - started) / 1000;
  }

  /** The totals of the observers that keep some (ObserverInstance.summary), by observer name. */
  summaries(): Record<string, Record<string, unknown>> {
    const summaries: Record<string, Record<string, unknown>> = {};
    for (const { name, summary } of this.observers) if (summary) summaries[name] = summary();
    return summaries;
  }

  /** Runs one cycle, or in the event engine one period. */
  advance(sink: MetricSink): void {
    if (this.eventLoop) this.runPeriod(sink);
    else this.runCycle(sink);
  }

  /** Runs `run` (a cycle or a period), counting its time less the observations' in timings.cycleSeconds. */
  private timed(run: () => void): void {
    const started = performance.now();
    const observing = this.timings.observerSeconds;
    try {
      run();
    } finally {
      this.timings.cycleSeconds += (performance.now() - started) / 1000 - (this.timings.observerSeconds - observing);
    }
  }

  /**
   * Event engine: handles events up to the end of the next period, stopping at each
   * time where a control or observer is due (controls first; both see every event
   * at or before that time).
   */
  runPeriod(sink: MetricSink): void {
    this.timed(() => this.runPeriodUntimed(sink));
  }

  private runPeriodUntimed(sink: MetricSink): void {
    const loop = this.eventLoop!;
    const period = this.scenario.event.period;
    const target = (Math.floor(this.considered / period) + 1) * period;
    while (!this.stopped) {
      let next = target;
      // A control with times of its own (TimedControl) counts only when it has something due.
      for (const { schedule, instance } of this.controls) {
        next = Math.min(next, isTimed(instance) ? firstDueTime(instance, schedule, this.considered, this.end, period, nextTime) : nextTime(schedule, this.considered, this.end));
      }
      for (const { schedule } of this.observers) next = Math.min(next, nextTime(schedule, this.considered, this.end));
      loop.runUntil(next);
      this.considered = next;
      this.clock.time = next;
      this.clock.cycle = Math.floor(next / period);
      for (const { schedule, instance } of this.controls) {
        if (scheduled(schedule, next, this.end) && (!isTimed(instance) || instance.isDue(next / period)) && instance.execute(next / period) === true) this.stopped = true;
      }
      this.observe(sink);
      if (next >= target) break;
    }
  }

  /** Runs one whole cycle: controls, protocols, observers. */
  runCycle(sink: MetricSink): void {
    this.timed(() => this.runCycleUntimed(sink));
  }

  private runCycleUntimed(sink: MetricSink): void {
    const next = this.clock.cycle + 1;
    this.cycleRunning = next;
    for (const { schedule, instance } of this.controls) {
      if (scheduled(schedule, next, this.scenario.cycles) && (!isTimed(instance) || instance.isDue(next)) && instance.execute(next) === true) this.stopped = true;
    }
    if (this.stopped) return;
    const count = this.shuffledOrder();
    const protocols = [...this.protocols.values()];
    if (count > 0) for (const protocol of protocols) protocol.beginCycle?.();
    // With several protocols, they take turns over chunks of the order: a node's state
    // that one protocol just touched is still in cache when the next one reaches it.
    const chunk = protocols.length > 1 ? INTERLEAVE : count;
    for (let from = 0; from < count; from += chunk) {
      const to = Math.min(from + chunk, count);
      for (const protocol of protocols) {
        if (protocol.stepAll) protocol.stepAll(this.order, from, to);
        else for (let i = from; i < to; i++) protocol.step(this.order[i]);
      }
    }
    this.clock.time = next;
    this.clock.cycle = next;
    this.observe(sink);
  }

  /** Runs from the initial state to the end, observing cycle (or time) 0 first. */
  run(sink: MetricSink): void {
    this.observe(sink);
    while (!this.done) this.advance(sink);
  }

  /** Every piece of the run's state, for a checkpoint between cycles (arrays are views of live memory). */
  saveState(): Section[] {
    return this.state.save();
  }

  /** Puts back a checkpoint's state into this freshly built run of the same scenario. */
  restoreState(sections: readonly Section[]): void {
    this.state.restore(sections);
  }

  /** The engine's own state: the clock and run, the node store, the random streams, the network, the event loop. */
  private registerEngineState(): void {
    this.state.engine('engine/run', {
      save: () => ({ ...this.clock, stopped: this.stopped, considered: this.considered, ...this.counts }),
      restore: (saved: any) => {
        this.clock.cycle = saved.cycle;
        this.clock.time = saved.time;
        this.cycleRunning = saved.cycle;
        this.stopped = saved.stopped;
        this.considered = saved.considered;
        this.counts.joined = saved.joined;
        this.counts.left = saved.left;
        this.counts.failed = saved.failed;
      },
    });
    this.state.engine('engine/store', { save: () => this.store.save(), restore: (saved: any) => this.store.restore(saved) });
    this.state.engine('engine/random', {
      save: () => ({ streams: this.streams.states() }),
      restore: (saved: any) => this.streams.restore(saved.streams),
    });
    this.state.engine('engine/network', {
      save: () => {
        const split = this.network.split;
        if (!split) return { split: null };
        // By name, without drawing an attribute not drawn yet (saving changes nothing).
        const attribute = [...this.store.attributes.keys()].find((name) => this.store.drawnAttribute(name) === split.attribute);
        if (attribute === undefined) throw new Error('a partition on an attribute the node store does not hold cannot be saved');
        return { split: { attribute, groups: split.groups } };
      },
      restore: (saved: any) => {
        if (saved.split) this.network.partition(this.store.attribute(saved.split.attribute), saved.split.groups);
        else this.network.heal();
      },
    });
    this.state.engine('engine/observers', {
      save: () => ({ metrics: this.observers.map(({ instance }) => instance.metrics ?? null) }),
      restore: (saved: any) => this.observers.forEach(({ instance }, i) => instance.restoreMetrics(saved.metrics[i])),
    });
  }

  /** Live slots in a fresh uniformly random order (Fisher-Yates on the engine stream). */
  private shuffledOrder(): number {
    const order = this.order;
    const n = this.store.copyLiveSlots(order);
    const random = this.engineRandom;
    for (let i = n - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    return n;
  }

  private context(path: string, name: string, stream: string): Context {
    const sim = this;
    return {
      name,
      store: this.store,
      random: this.streams.stream(stream),
      clock: this.clock,
      engine: this.scenario.engine,
      // A protocol's index is its position in the scenario: the one being created is next.
      transport: path.startsWith('protocols.') ? this.eventLoop?.transport(this.protocols.size) : undefined,
      scenario: {
        size: this.scenario.size, cycles: this.scenario.cycles, seed: this.scenario.seed, dir: this.scenario.dir,
        period: this.eventLoop ? this.scenario.event.period : 1,
      },
      membership: this.membership,
      network: this.network,
      state: this.state.scope(path, this.options.wrapState),
      contact: (from: number, peer: number): number => {
        const slot = this.store.slotOfLiveId(peer);
        if (slot < 0 || (this.network.partitioned && !this.network.reachable(from, slot))) return -1;
        return slot;
      },
      linkable(protocolName?: string): Linkable {
        if (protocolName === undefined) {
          for (const instance of sim.protocols.values()) if (instance.linkable) return instance.linkable;
          throw new ScenarioError(`${path}`, 'needs a protocol with a neighbour list (e.g. cyclon) declared before it');
        }
        const linkable = sim.protocol(protocolName, path).linkable;
        if (!linkable) throw new ScenarioError(sim.keyNaming(path, protocolName), `expected a protocol with a neighbour list (e.g. cyclon), found "${protocolName}" (of type ${sim.scenario.protocols[protocolName].type})`);
        return linkable;
      },
      protocol(protocolName: string): ProtocolInstance {
        return sim.protocol(protocolName, path);
      },
    };
  }

  private protocol(name: string, askedFrom: string): ProtocolInstance {
    const instance = this.protocols.get(name);
    if (!instance) {
      const known = [...this.protocols.keys()];
      const later = Object.hasOwn(this.scenario.protocols, name) ? ': it is declared after, move it up' : didYouMean(name, known);
      throw new ScenarioError(this.keyNaming(askedFrom, name), `expected the name of a protocol declared before it (${known.join(', ') || 'none yet'}), found "${name}"${later}`);
    }
    return instance;
  }

  /** The key of the block at `path` (`observers.o`) whose value names `name`: `observers.o.protocol`, `...protocol.2`; else the block. */
  private keyNaming(path: string, name: string): string {
    const dot = path.indexOf('.');
    const section = path.slice(0, dot) as 'protocols' | 'controls' | 'observers';
    const block = path.slice(dot + 1);
    const params = Object.hasOwn(this.scenario[section] ?? {}, block) ? this.scenario[section][block].params : {};
    for (const [key, value] of Object.entries(params)) {
      if (value === name) return `${path}.${key}`;
      if (Array.isArray(value) && value.includes(name)) return `${path}.${key}.${value.indexOf(name)}`;
    }
    return path;
  }
}

/** The first time after `after` at which `schedule` is due (Infinity if none before `end`). */
function nextTime(schedule: Schedule, after: number, end: number): number {
  const until = Math.min(schedule.until ?? end, end);
  const k = after < schedule.from ? 0 : Math.floor((after - schedule.from) / schedule.every) + 1;
  const grid = schedule.from + k * schedule.every;
  if (grid <= until) return grid;
  return schedule.final && after < end ? end : Infinity;
}

/**
 * Runs an instance's factory (or its init); whatever it throws is a problem with that
 * instance's configuration, told in one line with the plug-in's file and line.
 */
function creating<T>(path: string, create: () => T): T {
  try {
    return create();
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    throw new ScenarioError(path, describeError(error));
  }
}
