// Readers for received messages: StructReader and ListReader are small views
// (address, sizes, segment bounds, remaining depth) that the caller owns and
// the runtime fills in. Every pointer is bounds-checked against its segment,
// every object visited is charged to the message's traversal budget, and
// every failure is a returned status code, never a trap.
import {
  OK, ERR_OUT_OF_BOUNDS, ERR_BAD_SEGMENT, ERR_BAD_LANDING_PAD, ERR_POINTER_KIND,
  ERR_ELEMENT_SIZE, ERR_BAD_COMPOSITE_TAG, ERR_TRAVERSAL_LIMIT, ERR_NESTING_LIMIT,
  ERR_TEXT_NOT_TERMINATED, ERR_INDEX, ERR_SEGMENT_TABLE,
} from "./errors";
import { MessageReader } from "./message";
import { BlobReader } from "./text";
import {
  KIND_STRUCT, KIND_LIST, KIND_FAR, KIND_OTHER, ELEMENT_BIT, ELEMENT_BYTE, ELEMENT_POINTER, ELEMENT_COMPOSITE,
  elementDataBits, elementPointers, pointerKind, pointerOffset, structDataWords, structPointerCount,
  listElementSize, listElementCount,
} from "./wire";

/** Internal: the pointer is null (readers then produce the default). */
const IS_NULL: i32 = 1;

/**
 * Follows the pointer word at `ptrAddr` (inside the segment [segStart, segEnd))
 * through at most one far hop. On OK the message's resolved* registers
 * describe the object; returns IS_NULL for a null pointer.
 */
function resolvePointer(msg: MessageReader, segStart: usize, segEnd: usize, ptrAddr: usize): i32 {
  const word = load<u64>(ptrAddr);
  if (word == 0) return IS_NULL;
  const kind = pointerKind(word);
  if (kind == KIND_OTHER) {
    // A capability pointer has no target in the message; callers reject its kind.
    msg.resolvedTag = word;
    return OK;
  }
  if (kind != KIND_FAR) {
    const target = <i64>ptrAddr + 8 + (pointerOffset(word) << 3);
    if (target < <i64>segStart || target > <i64>segEnd) return ERR_OUT_OF_BOUNDS;
    msg.resolvedTag = word;
    msg.resolvedTarget = <usize>target;
    msg.resolvedSegmentStart = segStart;
    msg.resolvedSegmentEnd = segEnd;
    return OK;
  }
  const isDouble = ((<u32>word >> 2) & 1) != 0;
  const padOffsetWords = <u64>(<u32>word >> 3);
  if (msg.findSegment(<u32>(word >> 32)) != OK) return ERR_BAD_SEGMENT;
  const padAddr = <u64>msg.foundStart + (padOffsetWords << 3);
  if (padAddr + (isDouble ? 16 : 8) > <u64>msg.foundEnd) return ERR_OUT_OF_BOUNDS;
  const pad = load<u64>(<usize>padAddr);
  if (!isDouble) {
    // A single landing pad is an ordinary pointer to an object right after it.
    if (pointerKind(pad) == KIND_FAR) return ERR_BAD_LANDING_PAD;
    const target = <i64>padAddr + 8 + (pointerOffset(pad) << 3);
    if (target < <i64>msg.foundStart || target > <i64>msg.foundEnd) return ERR_OUT_OF_BOUNDS;
    msg.resolvedTag = pad;
    msg.resolvedTarget = <usize>target;
    msg.resolvedSegmentStart = msg.foundStart;
    msg.resolvedSegmentEnd = msg.foundEnd;
    return OK;
  }
  // A double landing pad: a far pointer to the object's first word (in any
  // segment), then a tag word that describes the object.
  if (pointerKind(pad) != KIND_FAR || ((<u32>pad >> 2) & 1) != 0) return ERR_BAD_LANDING_PAD;
  const tag = load<u64>(<usize>padAddr + 8);
  if (pointerKind(tag) == KIND_FAR) return ERR_BAD_LANDING_PAD;
  if (msg.findSegment(<u32>(pad >> 32)) != OK) return ERR_BAD_SEGMENT;
  const target = <u64>msg.foundStart + (<u64>(<u32>pad >> 3) << 3);
  if (target > <u64>msg.foundEnd) return ERR_OUT_OF_BOUNDS;
  msg.resolvedTag = tag;
  msg.resolvedTarget = <usize>target;
  msg.resolvedSegmentStart = msg.foundStart;
  msg.resolvedSegmentEnd = msg.foundEnd;
  return OK;
}

/** Reads the struct pointer at `ptrAddr` into `out`; a null pointer gives the empty struct. */
function readStructAt(msg: MessageReader, segStart: usize, segEnd: usize, ptrAddr: usize, depth: i32, out: StructReader): i32 {
  const r = resolvePointer(msg, segStart, segEnd, ptrAddr);
  if (r == IS_NULL) {
    out.makeEmpty(msg, depth - 1);
    return OK;
  }
  if (r != OK) return r;
  if (depth <= 0) return ERR_NESTING_LIMIT;
  const tag = msg.resolvedTag;
  if (pointerKind(tag) != KIND_STRUCT) return ERR_POINTER_KIND;
  const dataWords = structDataWords(tag);
  const pointerCount = structPointerCount(tag);
  const words = <u64>(dataWords + pointerCount);
  const target = msg.resolvedTarget;
  if (<u64>target + (words << 3) > <u64>msg.resolvedSegmentEnd) return ERR_OUT_OF_BOUNDS;
  if (!msg.charge(words)) return ERR_TRAVERSAL_LIMIT;
  out.msg = msg;
  out.segmentStart = msg.resolvedSegmentStart;
  out.segmentEnd = msg.resolvedSegmentEnd;
  out.data = target;
  out.dataBytes = dataWords << 3;
  out.pointers = target + (<usize>dataWords << 3);
  out.pointerCount = pointerCount;
  out.depth = depth - 1;
  return OK;
}

/**
 * Reads the list pointer at `ptrAddr` into `out`, checking that its elements
 * can be read as `expected` (an ELEMENT_* size). Follows the Cap'n Proto
 * compatibility rules: a struct list can stand in for a list of its first
 * field, and a primitive or pointer list for a list of one-field structs.
 */
function readListAt(
  msg: MessageReader, segStart: usize, segEnd: usize, ptrAddr: usize, depth: i32, expected: u32, out: ListReader,
): i32 {
  const r = resolvePointer(msg, segStart, segEnd, ptrAddr);
  if (r == IS_NULL) {
    out.makeEmpty(msg, depth - 1);
    return OK;
  }
  if (r != OK) return r;
  if (depth <= 0) return ERR_NESTING_LIMIT;
  const tag = msg.resolvedTag;
  if (pointerKind(tag) != KIND_LIST) return ERR_POINTER_KIND;
  const size = listElementSize(tag);
  const count = listElementCount(tag);
  const target = msg.resolvedTarget;
  const end = <u64>msg.resolvedSegmentEnd;
  let elementCount: u32;
  let dataBits: u32;
  let pointerCount: u32;
  let first: usize;
  if (size == ELEMENT_COMPOSITE) {
    const words = <u64>count;
    if (<u64>target + 8 + (words << 3) > end) return ERR_OUT_OF_BOUNDS;
    const structTag = load<u64>(target);
    if (pointerKind(structTag) != KIND_STRUCT) return ERR_BAD_COMPOSITE_TAG;
    elementCount = <u32>structTag >> 2;
    const dataWords = structDataWords(structTag);
    pointerCount = structPointerCount(structTag);
    const perElement = <u64>(dataWords + pointerCount);
    if (<u64>elementCount * perElement > words) return ERR_BAD_COMPOSITE_TAG;
    // Zero-sized elements cost nothing to store, so charge one word each.
    if (!msg.charge(words + 1)) return ERR_TRAVERSAL_LIMIT;
    if (perElement == 0 && !msg.charge(<u64>elementCount)) return ERR_TRAVERSAL_LIMIT;
    if (expected == ELEMENT_BIT) return ERR_ELEMENT_SIZE;
    if (elementDataBits(expected) > 0 && dataWords == 0) return ERR_ELEMENT_SIZE;
    if (expected == ELEMENT_POINTER && pointerCount == 0) return ERR_ELEMENT_SIZE;
    dataBits = dataWords << 6;
    first = target + 8;
  } else {
    elementCount = count;
    dataBits = elementDataBits(size);
    pointerCount = elementPointers(size);
    const step = <u64>(dataBits + (pointerCount << 6));
    const words = (<u64>count * step + 63) >> 6;
    if (<u64>target + (words << 3) > end) return ERR_OUT_OF_BOUNDS;
    if (!msg.charge(words)) return ERR_TRAVERSAL_LIMIT;
    if (step == 0 && !msg.charge(<u64>count)) return ERR_TRAVERSAL_LIMIT;
    if (expected == ELEMENT_COMPOSITE) {
      if (size == ELEMENT_BIT) return ERR_ELEMENT_SIZE;
    } else if (elementDataBits(expected) > dataBits || elementPointers(expected) > pointerCount) {
      return ERR_ELEMENT_SIZE;
    }
    first = target;
  }
  out.msg = msg;
  out.segmentStart = msg.resolvedSegmentStart;
  out.segmentEnd = msg.resolvedSegmentEnd;
  out.ptr = first;
  out.length = elementCount;
  out.elementSize = size;
  out.dataBits = dataBits;
  out.pointerCount = pointerCount;
  out.stepBits = dataBits + (pointerCount << 6);
  out.depth = depth - 1;
  return OK;
}

/**
 * Reads a byte-list pointer (Text or Data) into `out`. A null pointer gives
 * the `defaultLen` bytes at `defaultPtr`. Text must end in a NUL, which is
 * not counted in out.length.
 */
function readBlobAt(
  msg: MessageReader, segStart: usize, segEnd: usize, ptrAddr: usize, isText: bool,
  out: BlobReader, defaultPtr: usize, defaultLen: u32,
): i32 {
  const r = resolvePointer(msg, segStart, segEnd, ptrAddr);
  if (r == IS_NULL) {
    out.ptr = defaultPtr;
    out.length = defaultLen;
    return OK;
  }
  if (r != OK) return r;
  const tag = msg.resolvedTag;
  if (pointerKind(tag) != KIND_LIST) return ERR_POINTER_KIND;
  if (listElementSize(tag) != ELEMENT_BYTE) return ERR_ELEMENT_SIZE;
  const n = listElementCount(tag);
  const target = msg.resolvedTarget;
  const words = (<u64>n + 7) >> 3;
  if (<u64>target + (words << 3) > <u64>msg.resolvedSegmentEnd) return ERR_OUT_OF_BOUNDS;
  if (!msg.charge(words)) return ERR_TRAVERSAL_LIMIT;
  if (isText) {
    if (n == 0 || load<u8>(target + n - 1) != 0) return ERR_TEXT_NOT_TERMINATED;
    out.ptr = target;
    out.length = n - 1;
  } else {
    out.ptr = target;
    out.length = n;
  }
  return OK;
}

/** A view of one struct in a received message. Generated readers extend it. */
@unmanaged export class StructReader {
  msg: MessageReader = changetype<MessageReader>(0);
  segmentStart: usize = 0;
  segmentEnd: usize = 0;
  /** Address of the data section. */
  data: usize = 0;
  /** Bytes in the data section (may be less than a word for packed list elements). */
  dataBytes: u32 = 0;
  /** Address of the pointer section. */
  pointers: usize = 0;
  pointerCount: u32 = 0;
  /** How many more pointer levels may be followed below this struct. */
  depth: i32 = 0;

  /** Makes this the empty struct: every field reads as its default. */
  makeEmpty(msg: MessageReader, depth: i32): void {
    this.msg = msg;
    this.segmentStart = 0;
    this.segmentEnd = 0;
    this.data = 0;
    this.dataBytes = 0;
    this.pointers = 0;
    this.pointerCount = 0;
    this.depth = depth;
  }

  /** Reads the message's root struct into this reader. */
  readRoot(msg: MessageReader): i32 {
    if (msg.segmentCount == 0) return ERR_SEGMENT_TABLE;
    const start = msg.firstSegment;
    const end = start + (<usize>msg.firstSegmentWords << 3);
    return readStructAt(msg, start, end, start, msg.nestingLimit, this);
  }

  // Primitive fields: offsets are in bytes (bits for Bool) from the data
  // section start; a field past the end of the data section (an older
  // sender) reads as its default. Stored values are XORed with the default.

  readBool(bitOffset: u32, defaultValue: bool): bool {
    if (bitOffset >= this.dataBytes << 3) return defaultValue;
    const bit = (<u32>load<u8>(this.data + (bitOffset >> 3)) >> (bitOffset & 7)) & 1;
    return (bit != 0) != defaultValue;
  }
  readU8(offset: u32, defaultValue: u8): u8 {
    return offset + 1 <= this.dataBytes ? load<u8>(this.data + offset) ^ defaultValue : defaultValue;
  }
  readU16(offset: u32, defaultValue: u16): u16 {
    return offset + 2 <= this.dataBytes ? load<u16>(this.data + offset) ^ defaultValue : defaultValue;
  }
  readU32(offset: u32, defaultValue: u32): u32 {
    return offset + 4 <= this.dataBytes ? load<u32>(this.data + offset) ^ defaultValue : defaultValue;
  }
  readU64(offset: u32, defaultValue: u64): u64 {
    return offset + 8 <= this.dataBytes ? load<u64>(this.data + offset) ^ defaultValue : defaultValue;
  }
  readI8(offset: u32, defaultValue: i8): i8 {
    return <i8>this.readU8(offset, <u8>defaultValue);
  }
  readI16(offset: u32, defaultValue: i16): i16 {
    return <i16>this.readU16(offset, <u16>defaultValue);
  }
  readI32(offset: u32, defaultValue: i32): i32 {
    return <i32>this.readU32(offset, <u32>defaultValue);
  }
  readI64(offset: u32, defaultValue: i64): i64 {
    return <i64>this.readU64(offset, <u64>defaultValue);
  }
  /** A Float32 field; the default is given as its bit pattern. */
  readF32(offset: u32, defaultBits: u32): f32 {
    return reinterpret<f32>(this.readU32(offset, defaultBits));
  }
  /** A Float64 field; the default is given as its bit pattern. */
  readF64(offset: u32, defaultBits: u64): f64 {
    return reinterpret<f64>(this.readU64(offset, defaultBits));
  }

  // Pointer fields: `index` counts pointers from the pointer section start;
  // a pointer past the end of the section reads as null.

  /** Whether pointer `index` is non-null. */
  pointerIsSet(index: u32): bool {
    return index < this.pointerCount && load<u64>(this.pointers + (<usize>index << 3)) != 0;
  }

  /** Reads the struct at pointer `index`; null gives the empty struct. */
  readStruct(index: u32, out: StructReader): i32 {
    if (index >= this.pointerCount) {
      out.makeEmpty(this.msg, this.depth - 1);
      return OK;
    }
    return readStructAt(this.msg, this.segmentStart, this.segmentEnd, this.pointers + (<usize>index << 3), this.depth, out);
  }

  /** Reads the struct at pointer `index`; null gives the root of the default message. */
  readStructOrDefault(index: u32, out: StructReader, defaults: MessageReader, defaultPtr: usize, defaultLen: u32): i32 {
    if (!this.pointerIsSet(index)) return readDefaultStruct(defaults, defaultPtr, defaultLen, out);
    return this.readStruct(index, out);
  }

  /** Reads the list at pointer `index` as a list of `expected` elements; null gives the empty list. */
  readList(index: u32, expected: u32, out: ListReader): i32 {
    if (index >= this.pointerCount) {
      out.makeEmpty(this.msg, this.depth - 1);
      return OK;
    }
    return readListAt(this.msg, this.segmentStart, this.segmentEnd, this.pointers + (<usize>index << 3), this.depth, expected, out);
  }

  /** Reads the list at pointer `index`; null gives the root list of the default message. */
  readListOrDefault(
    index: u32, expected: u32, out: ListReader, defaults: MessageReader, defaultPtr: usize, defaultLen: u32,
  ): i32 {
    if (!this.pointerIsSet(index)) return readDefaultList(defaults, defaultPtr, defaultLen, expected, out);
    return this.readList(index, expected, out);
  }

  /** Reads the Text at pointer `index`; null gives the default bytes. */
  readText(index: u32, out: BlobReader, defaultPtr: usize, defaultLen: u32): i32 {
    if (index >= this.pointerCount) {
      out.ptr = defaultPtr;
      out.length = defaultLen;
      return OK;
    }
    return readBlobAt(this.msg, this.segmentStart, this.segmentEnd, this.pointers + (<usize>index << 3), true, out, defaultPtr, defaultLen);
  }

  /** Reads the Data at pointer `index`; null gives the default bytes. */
  readData(index: u32, out: BlobReader, defaultPtr: usize, defaultLen: u32): i32 {
    if (index >= this.pointerCount) {
      out.ptr = defaultPtr;
      out.length = defaultLen;
      return OK;
    }
    return readBlobAt(this.msg, this.segmentStart, this.segmentEnd, this.pointers + (<usize>index << 3), false, out, defaultPtr, defaultLen);
  }
}

/** A view of one list in a received message. */
@unmanaged export class ListReader {
  msg: MessageReader = changetype<MessageReader>(0);
  segmentStart: usize = 0;
  segmentEnd: usize = 0;
  /** Address of the first element. */
  ptr: usize = 0;
  /** Number of elements. */
  length: u32 = 0;
  /** The encoded element size (ELEMENT_*). */
  elementSize: u32 = 0;
  /** Data bits per element, pointers per element, and the distance between elements. */
  dataBits: u32 = 0;
  pointerCount: u32 = 0;
  stepBits: u32 = 0;
  depth: i32 = 0;

  /** Makes this the empty list. */
  makeEmpty(msg: MessageReader, depth: i32): void {
    this.msg = msg;
    this.segmentStart = 0;
    this.segmentEnd = 0;
    this.ptr = 0;
    this.length = 0;
    this.elementSize = 0;
    this.dataBits = 0;
    this.pointerCount = 0;
    this.stepBits = 0;
    this.depth = depth;
  }

  /** Address of element `i` (caller checks the index). */
  @inline elementAddress(i: u32): usize {
    return this.ptr + <usize>((<u64>i * <u64>this.stepBits) >> 3);
  }

  // Primitive elements. Out-of-range indexes and elements whose encoding has
  // no room for the value (a struct list without data) read as zero.

  getBool(i: u32): bool {
    if (i >= this.length || this.dataBits == 0) return false;
    const bit = <u64>i * <u64>this.stepBits;
    return ((load<u8>(this.ptr + <usize>(bit >> 3)) >> <u8>(bit & 7)) & 1) != 0;
  }
  getU8(i: u32): u8 {
    return i < this.length && this.dataBits >= 8 ? load<u8>(this.elementAddress(i)) : 0;
  }
  getU16(i: u32): u16 {
    return i < this.length && this.dataBits >= 16 ? load<u16>(this.elementAddress(i)) : 0;
  }
  getU32(i: u32): u32 {
    return i < this.length && this.dataBits >= 32 ? load<u32>(this.elementAddress(i)) : 0;
  }
  getU64(i: u32): u64 {
    return i < this.length && this.dataBits >= 64 ? load<u64>(this.elementAddress(i)) : 0;
  }
  getI8(i: u32): i8 { return <i8>this.getU8(i); }
  getI16(i: u32): i16 { return <i16>this.getU16(i); }
  getI32(i: u32): i32 { return <i32>this.getU32(i); }
  getI64(i: u32): i64 { return <i64>this.getU64(i); }
  getF32(i: u32): f32 { return reinterpret<f32>(this.getU32(i)); }
  getF64(i: u32): f64 { return reinterpret<f64>(this.getU64(i)); }

  /** Views element `i` as a struct (for List(Struct) and upgraded primitive lists). */
  getStruct(i: u32, out: StructReader): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.elementSize == ELEMENT_BIT) return ERR_ELEMENT_SIZE;
    const at = this.elementAddress(i);
    out.msg = this.msg;
    out.segmentStart = this.segmentStart;
    out.segmentEnd = this.segmentEnd;
    out.data = at;
    out.dataBytes = this.dataBits >> 3;
    out.pointers = at + (this.dataBits >> 3);
    out.pointerCount = this.pointerCount;
    out.depth = this.depth;
    return OK;
  }

  /** Address of element `i`'s pointer, or 0 when the element has none. */
  @inline private pointerAddress(i: u32): usize {
    return this.pointerCount == 0 ? 0 : this.elementAddress(i) + (this.dataBits >> 3);
  }

  /** Reads element `i` of a list of lists. */
  getList(i: u32, expected: u32, out: ListReader): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    if (p == 0) {
      out.makeEmpty(this.msg, this.depth - 1);
      return OK;
    }
    return readListAt(this.msg, this.segmentStart, this.segmentEnd, p, this.depth, expected, out);
  }

  /** Reads element `i` of a list of structs stored as pointers (List(AnyStruct)-style lists). */
  getStructPointer(i: u32, out: StructReader): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    if (p == 0) {
      out.makeEmpty(this.msg, this.depth - 1);
      return OK;
    }
    return readStructAt(this.msg, this.segmentStart, this.segmentEnd, p, this.depth, out);
  }

  /** Reads element `i` of a List(Text); null elements read as empty text. */
  getText(i: u32, out: BlobReader): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    if (p == 0) {
      out.ptr = 0;
      out.length = 0;
      return OK;
    }
    return readBlobAt(this.msg, this.segmentStart, this.segmentEnd, p, true, out, 0, 0);
  }

  /** Reads element `i` of a List(Data); null elements read as empty data. */
  getData(i: u32, out: BlobReader): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    if (p == 0) {
      out.ptr = 0;
      out.length = 0;
      return OK;
    }
    return readBlobAt(this.msg, this.segmentStart, this.segmentEnd, p, false, out, 0, 0);
  }
}

/**
 * Schema defaults for struct and list fields are stored as one-segment
 * messages in static data. Each read re-binds `defaults` (a reader reserved
 * for that default) so the trusted constant never exhausts a budget.
 */
function readDefaultStruct(defaults: MessageReader, ptr: usize, len: u32, out: StructReader): i32 {
  const r = defaults.init(ptr, len);
  if (r != OK) return r;
  return out.readRoot(defaults);
}

function readDefaultList(defaults: MessageReader, ptr: usize, len: u32, expected: u32, out: ListReader): i32 {
  const r = defaults.init(ptr, len);
  if (r != OK) return r;
  const start = defaults.firstSegment;
  const end = start + (<usize>defaults.firstSegmentWords << 3);
  return readListAt(defaults, start, end, start, defaults.nestingLimit, expected, out);
}
