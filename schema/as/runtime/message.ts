// MessageReader: validates a received message's segment table and finds its
// segments. It owns the traversal budget and nesting limit that every reader
// derived from the message shares. It never copies the message bytes.
import { OK, ERR_TRUNCATED, ERR_SEGMENT_TABLE, ERR_BAD_SEGMENT } from "./errors";
import { DEFAULT_TRAVERSAL_LIMIT_WORDS, DEFAULT_NESTING_LIMIT, MAX_SEGMENTS } from "./limits";

@unmanaged export class MessageReader {
  /** Address of the first byte (the segment count word). */
  base: usize = 0;
  /** Bytes the segment table and its segments occupy (may be less than the buffer). */
  byteLength: u32 = 0;
  segmentCount: u32 = 0;
  /** Address of segment 0's first word. */
  firstSegment: usize = 0;
  /** Words segment 0 holds. */
  firstSegmentWords: u32 = 0;
  /** Words of reads left before ERR_TRAVERSAL_LIMIT. */
  traversalLeft: u64 = 0;
  /** Pointer depth allowed below the root. */
  nestingLimit: i32 = 0;
  // Result registers of findSegment (valid after it returns OK).
  foundStart: usize = 0;
  foundEnd: usize = 0;
  // Result registers of the reader's pointer resolution (valid after it
  // returns OK): the struct or list pointer word describing the object, the
  // object's first word, and the bounds of the segment holding it.
  resolvedTag: u64 = 0;
  resolvedTarget: usize = 0;
  resolvedSegmentStart: usize = 0;
  resolvedSegmentEnd: usize = 0;

  /**
   * Binds the reader to `length` bytes at `buffer`: checks the segment table
   * and that every segment lies inside the buffer. Returns OK or an error.
   */
  init(
    buffer: usize,
    length: u32,
    traversalLimitWords: u64 = DEFAULT_TRAVERSAL_LIMIT_WORDS,
    nestingLimit: i32 = DEFAULT_NESTING_LIMIT,
  ): i32 {
    this.base = buffer;
    this.byteLength = 0;
    this.segmentCount = 0;
    this.traversalLeft = traversalLimitWords;
    this.nestingLimit = nestingLimit;
    if (length < 8) return ERR_TRUNCATED;
    const countMinusOne = load<u32>(buffer);
    if (countMinusOne >= MAX_SEGMENTS) return ERR_SEGMENT_TABLE;
    const count = countMinusOne + 1;
    // The table is 4 bytes of count plus 4 per segment, padded to a word.
    const tableBytes = (((count + 2) >> 1) << 3);
    if (<u64>tableBytes > <u64>length) return ERR_TRUNCATED;
    let totalWords: u64 = 0;
    for (let i: u32 = 0; i < count; i++) {
      totalWords += <u64>load<u32>(buffer + 4 + (<usize>i << 2));
    }
    const total = <u64>tableBytes + (totalWords << 3);
    if (total > <u64>length) return ERR_TRUNCATED;
    const firstWords = load<u32>(buffer + 4);
    if (firstWords == 0) return ERR_SEGMENT_TABLE; // no room for the root pointer
    this.byteLength = <u32>total;
    this.segmentCount = count;
    this.firstSegment = buffer + tableBytes;
    this.firstSegmentWords = firstWords;
    return OK;
  }

  /**
   * Looks up segment `id`; on success sets foundStart/foundEnd and returns OK,
   * otherwise ERR_BAD_SEGMENT. Cost is linear in `id` (at most MAX_SEGMENTS).
   */
  findSegment(id: u32): i32 {
    if (id >= this.segmentCount) return ERR_BAD_SEGMENT;
    let start = this.firstSegment;
    const sizes = this.base + 4;
    for (let i: u32 = 0; i < id; i++) {
      start += <usize>load<u32>(sizes + (<usize>i << 2)) << 3;
    }
    this.foundStart = start;
    this.foundEnd = start + (<usize>load<u32>(sizes + (<usize>id << 2)) << 3);
    return OK;
  }

  /** Charges `words` of reading against the budget; false when it is exhausted. */
  charge(words: u64): bool {
    if (words > this.traversalLeft) {
      this.traversalLeft = 0;
      return false;
    }
    this.traversalLeft -= words;
    return true;
  }
}
