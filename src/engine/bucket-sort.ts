/**
 * Sorting one timing-wheel bucket of EventQueue by (time, sequence). A bucket only
 * needs it when fractional times were appended out of order; the queue copies the
 * bucket's keys into (times, sequences, order), sorts them here, and rewrites the
 * records following `order`.
 */
import { before } from './event-heap.js';

/**
 * Sorts entries lo..hi of (times, sequences, order) by (time, sequence): quicksort
 * around the middle entry, insertion sort for short ranges. Sequences are distinct,
 * so only the pivot itself equals the pivot and every partition shrinks.
 */
export function sortEntries(times: Float64Array, sequences: Float64Array, order: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const middle = (lo + hi) >> 1;
    const pt = times[middle];
    const ps = sequences[middle];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(times[i], sequences[i], pt, ps)) i++;
      while (before(pt, ps, times[j], sequences[j])) j--;
      if (i <= j) {
        const t = times[i]; times[i] = times[j]; times[j] = t;
        const s = sequences[i]; sequences[i] = sequences[j]; sequences[j] = s;
        const o = order[i]; order[i] = order[j]; order[j] = o;
        i++;
        j--;
      }
    }
    // Recurse into the smaller side and loop on the larger: the depth stays O(log n).
    if (j - lo < hi - i) {
      sortEntries(times, sequences, order, lo, j);
      lo = i;
    } else {
      sortEntries(times, sequences, order, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const t = times[i];
    const s = sequences[i];
    const o = order[i];
    let j = i - 1;
    while (j >= lo && before(t, s, times[j], sequences[j])) {
      times[j + 1] = times[j]; sequences[j + 1] = sequences[j]; order[j + 1] = order[j];
      j--;
    }
    times[j + 1] = t; sequences[j + 1] = s; order[j + 1] = o;
  }
}
