/**
 * A subcloud's size by push-sum counting, with instances named by their leaders: each
 * node holds up to WIDTH (leader id, mass) columns, ordered by id, and one weight. A
 * leader starts its instance with mass 1, every member with weight 1, so that in each
 * instance weight/mass tends to the number of members. Merging keeps the WIDTH
 * smallest leader ids, so the instances of the WIDTH smallest leaders lose no mass (no
 * node ever drops them), whatever the number of leaders elected; the estimate is the
 * median over the instances held.
 */
export const WIDTH = 3;

const mergedIds = new Int32Array(2 * WIDTH);
const mergedMass = new Float64Array(2 * WIDTH);
const sorted = new Float64Array(WIDTH);

/**
 * Averages the columns at ids[idsBase..idsBase+WIDTH) and mass[massBase..] with those at otherIds[idsAt..] and
 * otherMass[massAt..] (ids -1: empty; ids ascending), writing the result over the first.
 */
export function mergeColumns(ids: Int32Array, idsBase: number, mass: Float64Array, massBase: number, otherIds: ArrayLike<number>, idsAt: number, otherMass: ArrayLike<number>, massAt: number): void {
  let i = 0, j = 0, n = 0;
  while (i < WIDTH || j < WIDTH) {
    const a = i < WIDTH ? ids[idsBase + i] : -1;
    const b = j < WIDTH ? otherIds[idsAt + j] : -1;
    if (a < 0 && b < 0) break;
    if (b < 0 || (a >= 0 && a < b)) { mergedIds[n] = a; mergedMass[n++] = mass[massBase + i++] / 2; }
    else if (a < 0 || b < a) { mergedIds[n] = b; mergedMass[n++] = otherMass[massAt + j++] / 2; }
    else { mergedIds[n] = a; mergedMass[n++] = (mass[massBase + i++] + otherMass[massAt + j++]) / 2; }
  }
  for (let k = 0; k < WIDTH; k++) {
    ids[idsBase + k] = k < n ? mergedIds[k] : -1;
    mass[massBase + k] = k < n ? mergedMass[k] : 0;
  }
}

/** Adds a departed node's mass (its last known columns) to a node's own: what the ring's repair returns to the count. */
export function absorbColumns(ids: Int32Array, idsBase: number, mass: Float64Array, massBase: number, otherIds: ArrayLike<number>, idsAt: number, otherMass: ArrayLike<number>, massAt: number): void {
  // Twice the average of (own, other) is their sum, for the instances kept.
  mergeColumns(ids, idsBase, mass, massBase, otherIds, idsAt, otherMass, massAt);
  for (let k = 0; k < WIDTH; k++) mass[massBase + k] *= 2;
}

/** The number of instances, and the lowest and highest of their estimates, behind the last estimateFrom. */
export const estimateRange = { instances: 0, low: NaN, high: NaN };

/** The median over the instances held of weight/mass (push-sum's ratio); NaN if none (estimateRange then holds the extremes). */
export function estimateFrom(ids: Int32Array, idsBase: number, mass: Float64Array, massBase: number, weight: number): number {
  let known = 0;
  for (let k = 0; k < WIDTH; k++) {
    const x = mass[massBase + k];
    if (ids[idsBase + k] < 0 || !(x > 0)) continue;
    let at = known++;
    const inverse = weight / x;
    while (at > 0 && sorted[at - 1] > inverse) { sorted[at] = sorted[at - 1]; at--; }
    sorted[at] = inverse;
  }
  estimateRange.instances = known;
  estimateRange.low = known > 0 ? sorted[0] : NaN;
  estimateRange.high = known > 0 ? sorted[known - 1] : NaN;
  if (known === 0) return NaN;
  const middle = known >> 1;
  return known % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
