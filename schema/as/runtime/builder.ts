// Builders that serialize a message straight into a caller-supplied buffer:
// one segment, objects allocated front to back, the segment table kept
// current after every allocation so the bytes are a valid message at any
// moment. No heap allocation; running out of buffer is ERR_OUT_OF_SPACE.
import { OK, ERR_OUT_OF_SPACE, ERR_INDEX, ERR_LIST_TOO_LONG, ERR_STRUCT_TOO_LARGE, ERR_ELEMENT_SIZE } from "./errors";
import { utf8Length, utf8Encode } from "./text";
import {
  ELEMENT_BIT, ELEMENT_BYTE, ELEMENT_POINTER, ELEMENT_COMPOSITE, MAX_LIST_COUNT, MAX_STRUCT_SECTION,
  elementDataBits, elementPointers, makeStructPointer, makeListPointer,
} from "./wire";

/** Builds one single-segment message in a caller-supplied buffer. */
@unmanaged export class MessageBuilder {
  /** Address of the buffer (the segment table). */
  buffer: usize = 0;
  /** Address of the segment's first word (the root pointer). */
  segment: usize = 0;
  usedWords: u32 = 0;
  capacityWords: u32 = 0;

  /**
   * Starts an empty message (a null root) in `capacity` bytes at `buffer`.
   * Needs at least 16 bytes: the segment table and the root pointer.
   */
  init(buffer: usize, capacity: u32): i32 {
    this.buffer = buffer;
    this.segment = buffer + 8;
    this.usedWords = 0;
    this.capacityWords = 0;
    if (capacity < 16) return ERR_OUT_OF_SPACE;
    this.capacityWords = (capacity - 8) >> 3;
    store<u32>(buffer, 0); // one segment
    store<u64>(this.segment, 0);
    this.usedWords = 1;
    store<u32>(buffer + 4, 1);
    return OK;
  }

  /** Bytes of the finished message (segment table plus segment). */
  byteLength(): u32 {
    return 8 + (this.usedWords << 3);
  }

  /** Zeroed space for `words` words, or 0 when the buffer is full. */
  allocate(words: u64): usize {
    if (words > <u64>(this.capacityWords - this.usedWords)) return 0;
    const at = this.segment + (<usize>this.usedWords << 3);
    memory.fill(at, 0, <usize>words << 3);
    this.usedWords += <u32>words;
    store<u32>(this.buffer + 4, this.usedWords);
    return at;
  }

  /** Makes the root a new struct of the given size and points `out` at it. */
  initRoot(dataWords: u32, pointerCount: u32, out: StructBuilder): i32 {
    if (this.usedWords == 0) return ERR_OUT_OF_SPACE;
    return initStructAt(this, this.segment, dataWords, pointerCount, out);
  }
}

/** Word offset from the end of the pointer at `ptrAddr` to `target`. */
@inline function offsetTo(ptrAddr: usize, target: usize): i32 {
  return <i32>((<i64>target - <i64>ptrAddr - 8) >> 3);
}

function initStructAt(msg: MessageBuilder, ptrAddr: usize, dataWords: u32, pointerCount: u32, out: StructBuilder): i32 {
  if (dataWords > MAX_STRUCT_SECTION || pointerCount > MAX_STRUCT_SECTION) return ERR_STRUCT_TOO_LARGE;
  const at = msg.allocate(<u64>(dataWords + pointerCount));
  if (at == 0) return ERR_OUT_OF_SPACE;
  store<u64>(ptrAddr, makeStructPointer(offsetTo(ptrAddr, at), dataWords, pointerCount));
  out.msg = msg;
  out.data = at;
  out.dataBytes = dataWords << 3;
  out.pointers = at + (<usize>dataWords << 3);
  out.pointerCount = pointerCount;
  return OK;
}

function initListAt(msg: MessageBuilder, ptrAddr: usize, elementSize: u32, count: u32, out: ListBuilder): i32 {
  if (elementSize >= ELEMENT_COMPOSITE) return ERR_ELEMENT_SIZE;
  if (count > MAX_LIST_COUNT) return ERR_LIST_TOO_LONG;
  const dataBits = elementDataBits(elementSize);
  const pointers = elementPointers(elementSize);
  const step = dataBits + (pointers << 6);
  const at = msg.allocate((<u64>count * <u64>step + 63) >> 6);
  if (at == 0) return ERR_OUT_OF_SPACE;
  store<u64>(ptrAddr, makeListPointer(offsetTo(ptrAddr, at), elementSize, count));
  out.msg = msg;
  out.ptr = at;
  out.length = count;
  out.elementSize = elementSize;
  out.dataBits = dataBits;
  out.pointerCount = pointers;
  out.stepBits = step;
  return OK;
}

function initStructListAt(
  msg: MessageBuilder, ptrAddr: usize, count: u32, dataWords: u32, pointerCount: u32, out: ListBuilder,
): i32 {
  if (dataWords > MAX_STRUCT_SECTION || pointerCount > MAX_STRUCT_SECTION) return ERR_STRUCT_TOO_LARGE;
  const words = <u64>count * <u64>(dataWords + pointerCount);
  if (count > MAX_LIST_COUNT || words > <u64>MAX_LIST_COUNT) return ERR_LIST_TOO_LONG;
  const at = msg.allocate(words + 1);
  if (at == 0) return ERR_OUT_OF_SPACE;
  // The tag word: a struct pointer whose offset field holds the element count.
  store<u64>(at, makeStructPointer(<i32>count, dataWords, pointerCount));
  store<u64>(ptrAddr, makeListPointer(offsetTo(ptrAddr, at), ELEMENT_COMPOSITE, <u32>words));
  out.msg = msg;
  out.ptr = at + 8;
  out.length = count;
  out.elementSize = ELEMENT_COMPOSITE;
  out.dataBits = dataWords << 6;
  out.pointerCount = pointerCount;
  out.stepBits = (dataWords + pointerCount) << 6;
  return OK;
}

/** Stores `len` bytes from `src` as a byte list; Text adds the NUL terminator. */
function setBlobAt(msg: MessageBuilder, ptrAddr: usize, src: usize, len: u32, isText: bool): i32 {
  const n = <u64>len + (isText ? 1 : 0);
  if (n > <u64>MAX_LIST_COUNT) return ERR_LIST_TOO_LONG;
  const at = msg.allocate((n + 7) >> 3);
  if (at == 0) return ERR_OUT_OF_SPACE;
  memory.copy(at, src, len);
  store<u64>(ptrAddr, makeListPointer(offsetTo(ptrAddr, at), ELEMENT_BYTE, <u32>n));
  return OK;
}

/** Allocates a Data value of `len` zero bytes; `out.ptr` is where to write them. */
function initDataAt(msg: MessageBuilder, ptrAddr: usize, len: u32, out: ListBuilder): i32 {
  if (len > MAX_LIST_COUNT) return ERR_LIST_TOO_LONG;
  return initListAt(msg, ptrAddr, ELEMENT_BYTE, len, out);
}

/** Stores an AssemblyScript string as UTF-8 Text. */
function setTextStringAt(msg: MessageBuilder, ptrAddr: usize, s: string): i32 {
  const len = utf8Length(s);
  const n = <u64>len + 1;
  if (n > <u64>MAX_LIST_COUNT) return ERR_LIST_TOO_LONG;
  const at = msg.allocate((n + 7) >> 3);
  if (at == 0) return ERR_OUT_OF_SPACE;
  utf8Encode(s, at);
  store<u64>(ptrAddr, makeListPointer(offsetTo(ptrAddr, at), ELEMENT_BYTE, <u32>n));
  return OK;
}

/** A struct being built. Generated builders extend it. */
@unmanaged export class StructBuilder {
  msg: MessageBuilder = changetype<MessageBuilder>(0);
  data: usize = 0;
  dataBytes: u32 = 0;
  pointers: usize = 0;
  pointerCount: u32 = 0;

  // Primitive fields: offsets in bytes (bits for Bool); values are stored
  // XORed with the field's default. Writes outside the data section are
  // dropped (generated code never makes them).

  writeBool(bitOffset: u32, value: bool, defaultValue: bool): void {
    if (bitOffset >= this.dataBytes << 3) return;
    const at = this.data + (bitOffset >> 3);
    const mask = <u8>(<u32>1 << (bitOffset & 7));
    const old = load<u8>(at);
    store<u8>(at, value != defaultValue ? old | mask : old & ~mask);
  }
  writeU8(offset: u32, value: u8, defaultValue: u8): void {
    if (offset + 1 <= this.dataBytes) store<u8>(this.data + offset, value ^ defaultValue);
  }
  writeU16(offset: u32, value: u16, defaultValue: u16): void {
    if (offset + 2 <= this.dataBytes) store<u16>(this.data + offset, value ^ defaultValue);
  }
  writeU32(offset: u32, value: u32, defaultValue: u32): void {
    if (offset + 4 <= this.dataBytes) store<u32>(this.data + offset, value ^ defaultValue);
  }
  writeU64(offset: u32, value: u64, defaultValue: u64): void {
    if (offset + 8 <= this.dataBytes) store<u64>(this.data + offset, value ^ defaultValue);
  }
  writeI8(offset: u32, value: i8, defaultValue: i8): void {
    this.writeU8(offset, <u8>value, <u8>defaultValue);
  }
  writeI16(offset: u32, value: i16, defaultValue: i16): void {
    this.writeU16(offset, <u16>value, <u16>defaultValue);
  }
  writeI32(offset: u32, value: i32, defaultValue: i32): void {
    this.writeU32(offset, <u32>value, <u32>defaultValue);
  }
  writeI64(offset: u32, value: i64, defaultValue: i64): void {
    this.writeU64(offset, <u64>value, <u64>defaultValue);
  }
  writeF32(offset: u32, value: f32, defaultBits: u32): void {
    this.writeU32(offset, reinterpret<u32>(value), defaultBits);
  }
  writeF64(offset: u32, value: f64, defaultBits: u64): void {
    this.writeU64(offset, reinterpret<u64>(value), defaultBits);
  }

  // Pointer fields. Re-initializing a pointer abandons the old object in the
  // buffer (it stays allocated but unreachable), as in every Cap'n Proto builder.

  @inline private pointerAddress(index: u32): usize {
    return this.pointers + (<usize>index << 3);
  }

  /** Sets pointer `index` to null. */
  clearPointer(index: u32): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    store<u64>(this.pointerAddress(index), 0);
    return OK;
  }
  /** Whether pointer `index` is set. */
  pointerIsSet(index: u32): bool {
    return index < this.pointerCount && load<u64>(this.pointerAddress(index)) != 0;
  }
  newStruct(index: u32, dataWords: u32, pointerCount: u32, out: StructBuilder): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return initStructAt(this.msg, this.pointerAddress(index), dataWords, pointerCount, out);
  }
  /** A list of `count` primitive or pointer elements (elementSize is ELEMENT_VOID..ELEMENT_POINTER). */
  newList(index: u32, elementSize: u32, count: u32, out: ListBuilder): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return initListAt(this.msg, this.pointerAddress(index), elementSize, count, out);
  }
  /** A list of `count` structs of the given size. */
  newStructList(index: u32, count: u32, dataWords: u32, pointerCount: u32, out: ListBuilder): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return initStructListAt(this.msg, this.pointerAddress(index), count, dataWords, pointerCount, out);
  }
  /** Text from `len` UTF-8 bytes at `src` (the NUL is added). */
  writeText(index: u32, src: usize, len: u32): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return setBlobAt(this.msg, this.pointerAddress(index), src, len, true);
  }
  /** Text from an AssemblyScript string, encoded as UTF-8 in place. */
  writeTextString(index: u32, s: string): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return setTextStringAt(this.msg, this.pointerAddress(index), s);
  }
  /** Data from `len` bytes at `src`. */
  writeData(index: u32, src: usize, len: u32): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return setBlobAt(this.msg, this.pointerAddress(index), src, len, false);
  }
  /** Data of `len` zero bytes to be filled at `out.ptr` (e.g. copied straight from a device). */
  newData(index: u32, len: u32, out: ListBuilder): i32 {
    if (index >= this.pointerCount) return ERR_INDEX;
    return initDataAt(this.msg, this.pointerAddress(index), len, out);
  }
}

/** A list being built. */
@unmanaged export class ListBuilder {
  msg: MessageBuilder = changetype<MessageBuilder>(0);
  /** Address of the first element. */
  ptr: usize = 0;
  length: u32 = 0;
  elementSize: u32 = 0;
  dataBits: u32 = 0;
  pointerCount: u32 = 0;
  stepBits: u32 = 0;

  @inline private elementAddress(i: u32): usize {
    return this.ptr + <usize>((<u64>i * <u64>this.stepBits) >> 3);
  }

  // Primitive elements; each returns ERR_INDEX for an index past the end or
  // ERR_ELEMENT_SIZE when the list's elements are too small for the value.

  setBool(i: u32, value: bool): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.elementSize != ELEMENT_BIT) return ERR_ELEMENT_SIZE;
    const at = this.ptr + (i >> 3);
    const mask = <u8>(<u32>1 << (i & 7));
    const old = load<u8>(at);
    store<u8>(at, value ? old | mask : old & ~mask);
    return OK;
  }
  setU8(i: u32, value: u8): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.dataBits < 8) return ERR_ELEMENT_SIZE;
    store<u8>(this.elementAddress(i), value);
    return OK;
  }
  setU16(i: u32, value: u16): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.dataBits < 16) return ERR_ELEMENT_SIZE;
    store<u16>(this.elementAddress(i), value);
    return OK;
  }
  setU32(i: u32, value: u32): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.dataBits < 32) return ERR_ELEMENT_SIZE;
    store<u32>(this.elementAddress(i), value);
    return OK;
  }
  setU64(i: u32, value: u64): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.dataBits < 64) return ERR_ELEMENT_SIZE;
    store<u64>(this.elementAddress(i), value);
    return OK;
  }
  setI8(i: u32, value: i8): i32 { return this.setU8(i, <u8>value); }
  setI16(i: u32, value: i16): i32 { return this.setU16(i, <u16>value); }
  setI32(i: u32, value: i32): i32 { return this.setU32(i, <u32>value); }
  setI64(i: u32, value: i64): i32 { return this.setU64(i, <u64>value); }
  setF32(i: u32, value: f32): i32 { return this.setU32(i, reinterpret<u32>(value)); }
  setF64(i: u32, value: f64): i32 { return this.setU64(i, reinterpret<u64>(value)); }

  /** Points `out` at element `i` of a struct list. */
  getStruct(i: u32, out: StructBuilder): i32 {
    if (i >= this.length) return ERR_INDEX;
    if (this.elementSize != ELEMENT_COMPOSITE) return ERR_ELEMENT_SIZE;
    const at = this.elementAddress(i);
    out.msg = this.msg;
    out.data = at;
    out.dataBytes = this.dataBits >> 3;
    out.pointers = at + (this.dataBits >> 3);
    out.pointerCount = this.pointerCount;
    return OK;
  }

  /** Address of element `i`'s pointer, or 0 when the list holds no pointers. */
  @inline private pointerAddress(i: u32): usize {
    return this.elementSize == ELEMENT_POINTER ? this.ptr + (<usize>i << 3) : 0;
  }

  // Pointer elements (List(Text), List(Data), List(List(...))).

  setText(i: u32, src: usize, len: u32): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : setBlobAt(this.msg, p, src, len, true);
  }
  setTextString(i: u32, s: string): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : setTextStringAt(this.msg, p, s);
  }
  setData(i: u32, src: usize, len: u32): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : setBlobAt(this.msg, p, src, len, false);
  }
  initData(i: u32, len: u32, out: ListBuilder): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : initDataAt(this.msg, p, len, out);
  }
  initList(i: u32, elementSize: u32, count: u32, out: ListBuilder): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : initListAt(this.msg, p, elementSize, count, out);
  }
  initStructList(i: u32, count: u32, dataWords: u32, pointerCount: u32, out: ListBuilder): i32 {
    if (i >= this.length) return ERR_INDEX;
    const p = this.pointerAddress(i);
    return p == 0 ? ERR_ELEMENT_SIZE : initStructListAt(this.msg, p, count, dataWords, pointerCount, out);
  }
}
