/**
 * Serialisable state of one generator: Alea's three lag registers (doubles in [0, 1))
 * and its carry (an int32), in the shape seedrandom's alea uses.
 */
export interface RandomState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

const TWO_TO_MINUS_32 = 2.3283064365386963e-10;

/**
 * Baagøe's Mash hash, as seedrandom's alea uses it to seed: one running value across
 * calls, so successive hashes of the same string differ.
 */
function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * TWO_TO_MINUS_32;
  };
}

/** Alea's state for a seed string, bit for bit as seedrandom.alea(seed) seeds it. */
function seedState(seed: string): RandomState {
  const hash = mash();
  let s0 = hash(' ');
  let s1 = hash(' ');
  let s2 = hash(' ');
  s0 -= hash(seed);
  if (s0 < 0) s0 += 1;
  s1 -= hash(seed);
  if (s1 < 0) s1 += 1;
  s2 -= hash(seed);
  if (s2 < 0) s2 += 1;
  return { c: 1, s0, s1, s2 };
}

/** Throws unless `state` has the four finite numbers of a RandomState. */
function checkState(state: unknown, stream: string): asserts state is RandomState {
  const fields = ['c', 's0', 's1', 's2'] as const;
  const s = state as Record<string, unknown> | null;
  const bad = typeof s !== 'object' || s === null
    ? 'not an object'
    : fields.filter((f) => typeof s[f] !== 'number' || !Number.isFinite(s[f])).map((f) => `${f} = ${String(s[f])}`).join(', ');
  if (bad) {
    throw new Error(`random stream "${stream}": a saved state needs finite numbers c, s0, s1 and s2; found ${bad}`);
  }
}

/**
 * One named stream of random numbers. All randomness in a simulation comes from
 * streams like this, each derived from the scenario seed and its own name, so that
 * adding a consumer (say an observer) never shifts another consumer's draws.
 *
 * The generator is Alea (Baagøe), seeded from `${seed}/${name}` exactly as
 * seedrandom.alea seeds it, so its draws are seedrandom's. It is written out here
 * because seedrandom keeps the state in a closure with no setter, and a checkpoint
 * must restore it under generator functions already handed out.
 */
export class Random {
  /** The live state: the generator reads and writes these fields, restore() overwrites them. */
  private readonly live: RandomState;
  private readonly prng: () => number;

  constructor(readonly name: string, seed: number | string, state?: RandomState) {
    this.live = seedState(`${seed}/${name}`);
    if (state !== undefined) this.restore(state);
    const live = this.live;
    this.prng = () => {
      const t = 2091639 * live.s0 + live.c * TWO_TO_MINUS_32;
      live.s0 = live.s1;
      live.s1 = live.s2;
      return (live.s2 = t - (live.c = t | 0));
    };
  }

  /** Uniform double in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** Uniform double in (0, 1]: safe under a logarithm. */
  positive(): number {
    return 1 - this.prng();
  }

  /** Standard normal deviate (Box-Muller, one value per call: no hidden cached state). */
  normal(): number {
    const u = this.positive();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * The raw generator (uniform double in [0, 1)), for hot loops: a protocol that keeps
   * it in a field calls one function at a call site of its own, which the JIT inlines,
   * where Random.next's call site is shared by every stream. Always the same function;
   * it follows restore().
   */
  generator(): () => number {
    return this.prng;
  }

  /** Plain state for checkpoints: restore() or `new Random(name, seed, state)` resumes it bit-exactly. */
  state(): RandomState {
    const { c, s0, s1, s2 } = this.live;
    return { c, s0, s1, s2 };
  }

  /** Continues from a saved state, in place: generators handed out earlier follow. */
  restore(state: RandomState): void {
    checkState(state, this.name);
    this.live.c = state.c;
    this.live.s0 = state.s0;
    this.live.s1 = state.s1;
    this.live.s2 = state.s2;
  }
}

/** Hands out the named streams of one run. Asking twice for a name is a bug: two consumers would share draws. */
export class RandomStreams {
  private readonly issued = new Map<string, Random>();

  constructor(readonly seed: number) {}

  stream(name: string): Random {
    if (this.issued.has(name)) throw new Error(`random stream "${name}" was requested twice`);
    const stream = new Random(name, this.seed);
    this.issued.set(name, stream);
    return stream;
  }

  /** Every stream's state, by name, in the order they were issued. */
  states(): Record<string, RandomState> {
    const out: Record<string, RandomState> = {};
    for (const [name, stream] of this.issued) out[name] = stream.state();
    return out;
  }

  /**
   * Restores every issued stream from `states()` of an earlier run of the same scenario.
   * All or nothing: the names must be exactly the issued ones and every state valid,
   * else it throws before changing any stream.
   */
  restore(states: Record<string, RandomState>): void {
    for (const name of this.issued.keys()) {
      if (!Object.hasOwn(states, name)) throw new Error(`random stream "${name}" has no saved state`);
    }
    for (const name of Object.keys(states)) {
      if (!this.issued.has(name)) throw new Error(`saved random state for "${name}", a stream this run never requested`);
      checkState(states[name], name);
    }
    for (const [name, stream] of this.issued) stream.restore(states[name]);
  }
}
