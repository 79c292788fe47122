import type { NodeStore } from '../../engine/node-store.js';
import type { Random } from '../../engine/random.js';
import { declaredAttribute } from '../../engine/attribute.js';
import type { StateDeclarations } from '../../engine/state.js';
import type { InitSpec } from './params.js';

/**
 * Each node's input: the value it contributes to the aggregate, and the value its
 * estimate restarts from at every epoch. Drawn inputs (peak, uniform, linear,
 * constant) are fixed for a node's life, as a node's measured load would be between
 * two readings; an attribute is read afresh each time, so a control that changes
 * attributes is tracked from the next epoch on.
 */
export class Inputs {
  /** slot -> drawn input (empty for `attribute`). */
  readonly drawn: Float64Array;
  /** The attribute array itself, for `attribute`. */
  private readonly attribute: Float64Array | undefined;

  constructor(
    private readonly store: NodeStore, private readonly spec: InitSpec, private readonly scenarioSize: number, keyPath: string,
    state: StateDeclarations,
  ) {
    if (spec.kind === 'attribute') {
      this.attribute = declaredAttribute(store, spec.name, `${keyPath}.init.name`);
      this.drawn = new Float64Array(0);
    } else {
      this.drawn = state.array('inputs', new Float64Array(store.capacity));
    }
  }

  /** Sets the inputs of every live node at the start of the run. */
  initialise(random: Random): void {
    const { store, spec, drawn } = this;
    const n = store.size;
    switch (spec.kind) {
      case 'peak': {
        for (let i = 0; i < n; i++) drawn[store.liveSlot(i)] = 0;
        if (n > 0) drawn[store.liveSlot(random.int(n))] = spec.value ?? this.scenarioSize;
        break;
      }
      case 'uniform':
        for (let i = 0; i < n; i++) drawn[store.liveSlot(i)] = spec.a + (spec.b - spec.a) * random.next();
        break;
      case 'linear':
        for (let i = 0; i < n; i++) drawn[store.liveSlot(i)] = n === 1 ? spec.a : spec.a + ((spec.b - spec.a) * i) / (n - 1);
        break;
      case 'constant':
        for (let i = 0; i < n; i++) drawn[store.liveSlot(i)] = spec.value;
        break;
      case 'attribute':
        break;
    }
  }

  /**
   * Gives a node that joined mid-run its input. The peak already sits on an initial
   * node, so a joiner brings 0; there is no "next position" on a linear scale for a
   * joiner, so linear, like uniform, draws from [a, b].
   */
  assignJoiner(slot: number, random: Random): void {
    const { spec } = this;
    switch (spec.kind) {
      case 'peak': this.drawn[slot] = 0; break;
      case 'uniform':
      case 'linear': this.drawn[slot] = spec.a + (spec.b - spec.a) * random.next(); break;
      case 'constant': this.drawn[slot] = spec.value; break;
      case 'attribute': break;
    }
  }

  /** The node's current input. */
  of(slot: number): number {
    return this.attribute ? this.attribute[slot] : this.drawn[slot];
  }
}
