// The Cap'n Proto wire encoding: pointer kinds, list element sizes, and the
// bit fields of a 64-bit pointer word. Shared by the reader and the builder;
// holds no state.

export const WORD_BYTES: u32 = 8;

// Pointer kinds (the low two bits of a pointer word).
export const KIND_STRUCT: u32 = 0;
export const KIND_LIST: u32 = 1;
export const KIND_FAR: u32 = 2;
export const KIND_OTHER: u32 = 3; // capability pointers

// List element sizes (bits 32..34 of a list pointer).
export const ELEMENT_VOID: u32 = 0;
export const ELEMENT_BIT: u32 = 1;
export const ELEMENT_BYTE: u32 = 2;
export const ELEMENT_TWO_BYTES: u32 = 3;
export const ELEMENT_FOUR_BYTES: u32 = 4;
export const ELEMENT_EIGHT_BYTES: u32 = 5;
export const ELEMENT_POINTER: u32 = 6;
export const ELEMENT_COMPOSITE: u32 = 7;

/** The largest element count (or composite word count) a list pointer can hold. */
export const MAX_LIST_COUNT: u32 = (1 << 29) - 1;
/** The largest struct data section (words) or pointer section (pointers). */
export const MAX_STRUCT_SECTION: u32 = 0xffff;

/** Bits of data per element for a non-composite element size. */
@inline export function elementDataBits(size: u32): u32 {
  // void, bit, byte, 2, 4, 8 bytes, pointer (no data bits)
  switch (size) {
    case ELEMENT_BIT: return 1;
    case ELEMENT_BYTE: return 8;
    case ELEMENT_TWO_BYTES: return 16;
    case ELEMENT_FOUR_BYTES: return 32;
    case ELEMENT_EIGHT_BYTES: return 64;
    default: return 0;
  }
}

/** Pointers per element for a non-composite element size. */
@inline export function elementPointers(size: u32): u32 {
  return size == ELEMENT_POINTER ? 1 : 0;
}

/** The signed word offset of a struct or list pointer (bits 2..31). */
@inline export function pointerOffset(word: u64): i64 {
  return <i64>(<i32>(<u32>word) >> 2);
}

@inline export function pointerKind(word: u64): u32 {
  return <u32>word & 3;
}

@inline export function structDataWords(word: u64): u32 {
  return <u32>(word >> 32) & 0xffff;
}

@inline export function structPointerCount(word: u64): u32 {
  return <u32>(word >> 48);
}

@inline export function listElementSize(word: u64): u32 {
  return <u32>(word >> 32) & 7;
}

@inline export function listElementCount(word: u64): u32 {
  return <u32>(word >> 35);
}

/** A struct pointer word for an object `offset` words after the pointer's end. */
@inline export function makeStructPointer(offset: i32, dataWords: u32, pointerCount: u32): u64 {
  return (<u64>(<u32>(offset << 2) | KIND_STRUCT)) | (<u64>dataWords << 32) | (<u64>pointerCount << 48);
}

/** A list pointer word. For composite lists `count` is the word count without the tag. */
@inline export function makeListPointer(offset: i32, elementSize: u32, count: u32): u64 {
  return (<u64>(<u32>(offset << 2) | KIND_LIST)) | (<u64>elementSize << 32) | (<u64>count << 35);
}
