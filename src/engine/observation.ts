import type { ObserverInstance } from './protocol.js';

type Emit = (metric: string, value: number) => void;

/**
 * Keeps an observer's rows rectangular: every observation emits the same metrics in
 * the same order, so a table of the CSV by metric has no holes and no stray columns.
 * The metrics are those the observer declares, or else those of its first observation.
 * A metric left out is written as NaN; a metric not in the list, or emitted twice in one
 * observation, fails the run with an error naming the observer.
 */
export class UniformObservations implements ObserverInstance {
  private names?: readonly string[];
  private readonly position = new Map<string, number>();
  private values: number[] = [];
  private emitted: boolean[] = [];
  private declared = false;

  /** `path` names the observer in errors (`observers.<name>`). */
  constructor(private readonly path: string, private readonly inner: ObserverInstance, declared?: readonly string[]) {
    if (declared !== undefined) {
      this.fix(declared, 'declares');
      this.declared = true;
    }
  }

  get metrics(): readonly string[] | undefined {
    return this.names;
  }

  observe(emit: Emit): void {
    if (this.names === undefined) {
      const names: string[] = [];
      const values: number[] = [];
      this.inner.observe((metric, value) => {
        if (names.includes(metric)) throw this.twice(metric);
        names.push(metric);
        values.push(value);
      });
      this.fix(names, 'emitted');
      for (let i = 0; i < names.length; i++) emit(names[i], values[i]);
      return;
    }
    const { names, values, emitted } = this;
    values.fill(NaN);
    emitted.fill(false);
    this.inner.observe((metric, value) => {
      const i = this.position.get(metric);
      if (i === undefined) throw this.unknown(metric);
      if (emitted[i]) throw this.twice(metric);
      emitted[i] = true;
      values[i] = value;
    });
    for (let i = 0; i < names.length; i++) emit(names[i], values[i]);
  }

  /** Resume: the metrics the observer had when the checkpoint was taken (null: none observed yet). */
  restoreMetrics(names: readonly string[] | null): void {
    if (names === null || this.declared) return;
    this.position.clear();
    this.fix(names, 'emitted');
  }

  private fix(names: readonly string[], how: 'declares' | 'emitted'): void {
    for (const [i, name] of names.entries()) {
      // At creation the caller names the observer; during the run the message must.
      const where = how === 'declares' ? '' : `${this.path}: `;
      if (typeof name !== 'string' || name === '') throw new Error(`${where}${how} a metric that is not a name: ${JSON.stringify(name)}`);
      if (this.position.has(name)) throw new Error(`${where}${how} metric "${name}" twice`);
      this.position.set(name, i);
    }
    this.names = [...names];
    this.values = new Array<number>(names.length).fill(NaN);
    this.emitted = new Array<boolean>(names.length).fill(false);
  }

  private unknown(metric: string): Error {
    const list = this.names!.length > 0 ? this.names!.map((m) => `"${m}"`).join(', ') : 'none';
    const known = this.declared ? `its declared metrics (${list})` : `the metrics of its first observation (${list})`;
    return new Error(`${this.path}: emitted metric "${metric}", which is not one of ${known}; ` +
      'every observation has the same metrics (declare them all in `metrics`: those left out are NaN)');
  }

  private twice(metric: string): Error {
    return new Error(`${this.path}: emitted metric "${metric}" twice in one observation`);
  }
}
