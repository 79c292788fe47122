import type { z } from 'zod';
import type { Network } from './network.js';
import type { NodeStore } from './node-store.js';
import type { Random } from './random.js';
import type { StateDeclarations } from './state.js';

/**
 * The plug-in interfaces. A protocol, an observer and a control are each a
 * definition (type name, parameter schema with defaults, factory) and an instance
 * (state plus behaviour). Node state belongs in typed arrays indexed by slot.
 */

/** PeerSim's Linkable: a node's view of other nodes, read by protocols stacked on top. */
export interface Linkable {
  /** Number of neighbours `slot` holds now. */
  degree(slot: number): number;
  /** Id of `slot`'s i-th neighbour, 0 <= i < degree(slot). May name a departed node. */
  neighbor(slot: number, i: number): number;
  /** A peer for `slot` to talk to, drawn with the caller's stream: an id, or -1 if it knows none. */
  samplePeer(slot: number, random: Random): number;
  /** Optional: an early read of what samplePeer(slot) will read (a capability, like Prefetching.prefetch: it must change nothing). */
  prefetchPeers?(slot: number): number;
}

/** samplePeer for a neighbour list: a uniformly random neighbour, -1 if there is none. */
export function randomNeighbor(links: Pick<Linkable, 'degree' | 'neighbor'>, slot: number, random: Random): number {
  const n = links.degree(slot);
  return n === 0 ? -1 : links.neighbor(slot, random.int(n));
}

/** What the engine hands a plug-in when it creates it. */
export interface Context {
  /** The instance's name in the scenario. */
  readonly name: string;
  readonly store: NodeStore;
  /** The instance's own stream: `protocol/<name>`, `observer/<name>` or `control/<name>`. */
  readonly random: Random;
  /** The simulated time (cycles; ms in the event engine) and the whole cycles (periods) elapsed: 0 during initialisation. */
  readonly clock: { readonly cycle: number; readonly time: number };
  /** Which engine runs the scenario. */
  readonly engine: 'cycle' | 'event';
  /** Messages and timers: present in the event engine only. */
  readonly transport?: Transport;
  /** Scenario-level facts a plug-in may size itself by. */
  readonly scenario: {
    readonly size: number; readonly cycles: number; readonly seed: number; readonly dir: string;
    /** Engine time units per cycle: the event engine's period (ms); 1 in the cycle engine (time is cycles). */
    readonly period: number;
  };
  /** The neighbour source of another protocol instance, by name (PeerSim's `linkable` parameter); without a name, the first protocol that has one. */
  linkable(protocolName?: string): Linkable;
  /** Another protocol instance, by name, for plug-ins that read its state. */
  protocol(protocolName: string): ProtocolInstance;
  /** Membership changes, for controls (churn, failures): they keep every protocol informed. */
  readonly membership: Membership;
  /** Reachability between nodes (partitions), to read; exchanges go through `contact`. */
  readonly network: Network;
  /**
   * The state that lasts between steps, declared so that checkpoints save it and resume
   * restores it: per-node typed arrays, plain values, pools of message records.
   */
  readonly state: StateDeclarations;
  /**
   * The slot of node `peer` if the node in slot `from` can exchange with it now; -1 if
   * the peer has left or is offline, or a partition separates them. A cycle-driven
   * exchange resolves its peer through this, never by looking the id up itself: the
   * engine decides who can reach whom.
   */
  contact(from: number, peer: number): number;
}

/** The event-driven engine's messaging, as one protocol instance sees it. */
export interface Transport {
  /** Simulated time now, in ms. */
  readonly now: number;
  /** The engine's period (ms): how often each node's timer fires. */
  readonly period: number;
  /** How long a protocol should wait for a reply before giving up (ms). */
  readonly timeoutAfter: number;
  /**
   * Sends message `kind` (0-7) of this protocol from the node in slot `from` to the node
   * with id `to`, after the transport's latency. `payload` is the protocol's own
   * reference (e.g. an index into its pooled message store). Returns false when the
   * message is dropped at once: lost, or (when a partition is in force or latency is
   * pairwise) its destination offline or unreachable. A message whose destination has
   * left by the time it arrives is dropped then (see onUndelivered).
   */
  send(from: number, to: number, kind: number, payload: number, bytes?: number): boolean;
  /** A one-shot timer: onTimeout(slot, kind, payload) after `delay` ms, unless the node has left. Kinds 0-6. */
  timeout(slot: number, delay: number, kind: number, payload: number): void;
}

/** How a node went: `leave` (a session ended) or `fail` (a crash, an outage): counted apart. */
export type Departure = 'leave' | 'fail';

export interface Membership {
  /** Adds a new node with fresh attributes, tells every protocol (onJoin), returns its slot. */
  join(): number;
  /** Removes the node in `slot` for good, telling every protocol first (onLeave). Its id is never reused. */
  leave(slot: number, how?: Departure): void;
  /** Takes the node offline, keeping its id, slot and state, for `resume` later. */
  suspend(slot: number, how?: Departure): void;
  /** Brings an offline node back with its old id and state; protocols see onJoin(slot, true). */
  resume(slot: number): void;
  /** Cumulative counts since the start. */
  readonly counts: { readonly joined: number; readonly left: number; readonly failed: number };
}

export interface ProtocolContext extends Context {
  /** Stream for initialisation only (`init/<name>`), so changing the initial topology never shifts the protocol's own draws. */
  readonly initRandom: Random;
}

/** A problem a definition finds in its parameters beyond their schema (e.g. a cache larger than the network). */
export interface ParamProblem {
  /** Key inside the instance's block, e.g. `cache`. */
  readonly key: string;
  readonly message: string;
}

/** What a definition's `check` knows of the scenario. */
export interface ScenarioFacts {
  readonly size: number;
  /** Most nodes alive at once (slots). */
  readonly capacity: number;
  readonly cycles: number;
  readonly engine: 'cycle' | 'event';
  /** The event engine's period (ms). */
  readonly period: number;
}

interface Definition<P, I, C extends Context> {
  /** The `type:` name scenarios use. */
  readonly type: string;
  /** One line for `pcsim list`. */
  readonly description: string;
  /** Parameters, as a strict object schema with defaults (the `type` key is added by pcsim). */
  readonly params: z.ZodType<P>;
  /** Cross-checks against the scenario, run at validation time. */
  check?(params: P, scenario: ScenarioFacts): ParamProblem[];
  create(context: C, params: P): I;
}

/**
 * What every protocol provides: a cycle step, or (event engine) message handlers, plus
 * the life-cycle hooks it needs. Its state is declared through `ctx.state`. The
 * optional speed-ups (BatchedStep, Prefetching) are capabilities apart: each must
 * change no result, which the contract suite checks for every registered protocol.
 */
export interface Protocol {
  /** Sets up initial state for every live node (the initial overlay, initial values). */
  init?(): void;
  /** One node's work for one cycle (PeerSim's CDProtocol.nextCycle). */
  step(slot: number): void;
  /**
   * Work for all the protocol's nodes at once at a synchronised instant (an epoch
   * restart), not on behalf of one node: called before the cycle's first step (when any
   * node is live), and in the event engine before each timer, message or timeout it
   * handles (once per cycle is its own business: the cycle is `ctx.clock.cycle`).
   */
  beginCycle?(): void;
  /**
   * A node joined mid-run (its attributes are set): give it initial state (e.g. bootstrap
   * its cache). `returning` is true for an offline node coming back with its old state.
   */
  onJoin?(slot: number, returning: boolean): void;
  /** A node is about to leave; `temporary` when it goes offline and may come back with its state. */
  onLeave?(slot: number, temporary: boolean): void;
  /**
   * Event engine: the node's periodic timer fired. Without it, the engine calls
   * `step(slot)` instead: the exchange then happens atomically at that instant
   * (PeerSim's CDScheduler running a cycle-driven protocol in the event engine).
   */
  onTimer?(slot: number): void;
  /** Event engine: message `kind` sent with `transport.send` arrived at `slot` from node id `from`. */
  onMessage?(slot: number, kind: number, from: number, payload: number): void;
  /** Event engine: a timer set with `transport.timeout` fired. */
  onTimeout?(slot: number, kind: number, payload: number): void;
  /** Event engine: a message (kind >= 0) or timeout (kind -1) was dropped because its node left: free its payload. */
  onUndelivered?(kind: number, payload: number): void;
  /** Present when the protocol is a neighbour source for others. */
  readonly linkable?: Linkable;
}

/** Capability: a batched cycle step, for speed. It must give exactly what step(order[i]) for each i would. */
export interface BatchedStep {
  /** The same as calling step(order[i]) for from <= i < to, in one tight loop. */
  stepAll(order: Int32Array, from: number, to: number): void;
}

/** Capability: early reads in the event engine, for speed. It must change nothing. */
export interface Prefetching {
  /**
   * Reads early what handling an upcoming event at `slot` will touch (`message` -1: its
   * timer; else the message kind, its sender's id and its payload), so that the cache
   * misses of several events overlap. Returns any number read (the engine keeps their
   * sum, so the reads are not optimised away).
   */
  prefetch(slot: number, message: number, from: number, payload: number): number;
}

/** A protocol instance as the engine holds it: the contract plus any capabilities. */
export type ProtocolInstance = Protocol & Partial<BatchedStep> & Partial<Prefetching>;

export interface ObserverInstance {
  /**
   * Measures the current state and emits one value per metric. Must not change simulation state.
   * Every observation has the same metrics in the same order: the engine writes NaN for a
   * declared metric left out, and fails the run on a metric it does not declare.
   */
  observe(emit: (metric: string, value: number) => void): void;
  /** The metrics every observation has, in order, when they depend on the parameters (else the definition's). */
  readonly metrics?: readonly string[];
  /**
   * Totals for the whole run (e.g. metering), which the manifest records under
   * `summaries.<observer name>` when the run ends, however it ends. Plain JSON values.
   * Must not change simulation state.
   */
  summary?(): Record<string, unknown>;
}

export interface ControlInstance {
  /** Runs once after the protocols' init, before cycle 0 is observed (e.g. take offline who a trace says is down). */
  init?(): void;
  /** Acts at the start of cycle `cycle` (1-based), before the protocols step. Returns true to stop the run. */
  execute(cycle: number): boolean | void;
}

export type ProtocolDefinition<P = any> = Definition<P, ProtocolInstance, ProtocolContext> & { readonly kind?: 'protocol' };
export type ObserverDefinition<P = any> = Definition<P, ObserverInstance, Context> & {
  readonly kind: 'observer';
  /**
   * The metrics every observation has, in order. Without it (on the definition or the
   * instance), the metrics of the first observation are the ones every later one must have.
   */
  readonly metrics?: readonly string[];
};
export type ControlDefinition<P = any> = Definition<P, ControlInstance, Context> & {
  readonly kind: 'control';
  /**
   * Changes at times of its own (session ends, trace events): in the event engine it
   * may run at any ms unless `every` says otherwise, instead of once a period. An
   * instance that also says when its next change is due (TimedControl, in
   * timed-control.ts: `isDue`, `dueAt`) runs only then, so its cost follows its changes.
   */
  readonly continuous?: boolean;
};

/** Identity helpers that give plug-in authors type inference. */
export const defineProtocol = <P>(d: ProtocolDefinition<P>): ProtocolDefinition<P> => d;
export const defineObserver = <P>(d: Omit<ObserverDefinition<P>, 'kind'>): ObserverDefinition<P> => ({ ...d, kind: 'observer' });
export const defineControl = <P>(d: Omit<ControlDefinition<P>, 'kind'>): ControlDefinition<P> => ({ ...d, kind: 'control' });
