/**
 * Who can talk to whom. Normally everyone; during a partition, only nodes whose
 * groups match. Groups come from a node attribute (usually `region`), read when
 * asked, so nodes that join during a partition land on their region's side.
 * Protocols ask `reachable(a, b)` before an exchange: in the cycle engine a blocked
 * exchange fails as if the peer had left.
 */
export class Network {
  private groupOfValue: Map<number, number> | null = null;
  private attribute: Float64Array | null = null;
  private groups: readonly (readonly number[])[] = [];

  /** True while a partition is in force: protocols need only ask `reachable` then. */
  get partitioned(): boolean {
    return this.groupOfValue !== null;
  }

  /** Splits the network: nodes whose attribute values fall in different groups cannot exchange. Unlisted values form one more group. */
  partition(attribute: Float64Array, groups: readonly (readonly number[])[]): void {
    this.attribute = attribute;
    this.groups = groups.map((values) => [...values]);
    this.groupOfValue = new Map();
    groups.forEach((values, group) => values.forEach((value) => this.groupOfValue!.set(value, group)));
  }

  heal(): void {
    this.groupOfValue = null;
    this.attribute = null;
    this.groups = [];
  }

  /** The partition in force, for checkpoints: the attribute array and its groups (null when whole). */
  get split(): { readonly attribute: Float64Array; readonly groups: readonly (readonly number[])[] } | null {
    return this.attribute === null ? null : { attribute: this.attribute, groups: this.groups };
  }

  /** Group of the node in `slot` during a partition (-1 for values no group lists). */
  group(slot: number): number {
    return this.groupOfValue?.get(this.attribute![slot]) ?? -1;
  }

  reachable(a: number, b: number): boolean {
    return this.groupOfValue === null || this.group(a) === this.group(b);
  }
}
