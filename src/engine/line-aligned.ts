/**
 * Typed arrays whose element 0 starts a 64-byte cache line, so that a record of 64 or
 * 128 bytes at a multiple of its size spans one or two lines, not two or three.
 *
 * JavaScript cannot ask for alignment. glibc serves large allocations (Node's array
 * buffers above its mmap threshold) with mmap, and puts its 16-byte chunk header at
 * the page's start: the data start 16 bytes past a line (seen in /proc/self/maps).
 * A view from byte 48 of a buffer 48 bytes larger then starts a line. This is best
 * effort: elsewhere (other allocators, buffers below glibc's mmap threshold, which
 * rises after large frees) the offset costs 48 bytes and changes no result, only speed.
 */
const OFFSET = 48;

export function lineAlignedInt32Array(length: number): Int32Array {
  return new Int32Array(new ArrayBuffer(OFFSET + 4 * length), OFFSET, length);
}

/** A byte view of exactly the memory of `array` (made by lineAlignedInt32Array or not). */
export function bytesOf(array: Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
