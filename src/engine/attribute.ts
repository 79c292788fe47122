import type { NodeStore } from './node-store.js';
import { ScenarioError } from './errors.js';

/** The values, by slot, of an attribute the scenario declares; else an error at `keyPath` that lists the declared ones. */
export function declaredAttribute(store: NodeStore, name: string, keyPath: string): Float64Array {
  const values = store.attributes.get(name);
  if (!values) {
    const declared = [...store.attributes.keys()].join(', ') || 'none';
    throw new ScenarioError(keyPath, `expected a declared attribute (${declared}), found "${name}"`);
  }
  return values;
}
