import type { ControlDefinition, ObserverDefinition, ProtocolDefinition } from './protocol.js';

export type AnyDefinition = ProtocolDefinition | ObserverDefinition | ControlDefinition;

/** The type names a scenario may use, for protocols, observers and controls. */
export class Registry {
  readonly protocols = new Map<string, ProtocolDefinition>();
  readonly observers = new Map<string, ObserverDefinition>();
  readonly controls = new Map<string, ControlDefinition>();

  register(definition: AnyDefinition): this {
    const table = this.tableFor(definition);
    if (table.has(definition.type)) throw new Error(`a ${definition.kind ?? 'protocol'} of type "${definition.type}" is already registered`);
    table.set(definition.type, definition);
    return this;
  }

  /** A copy that plug-ins can extend without touching the original. */
  clone(): Registry {
    const copy = new Registry();
    for (const table of [this.protocols, this.observers, this.controls]) for (const d of table.values()) copy.register(d);
    return copy;
  }

  private tableFor(definition: AnyDefinition): Map<string, AnyDefinition> {
    switch (definition.kind) {
      case 'observer': return this.observers as Map<string, AnyDefinition>;
      case 'control': return this.controls as Map<string, AnyDefinition>;
      default: return this.protocols as Map<string, AnyDefinition>;
    }
  }
}
