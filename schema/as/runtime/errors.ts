// Status codes returned by the guest Cap'n Proto runtime. Every reader and
// builder operation that can fail returns one of these as an i32: OK (zero) or
// a negative code. Nothing in the runtime traps or throws on a bad message.

/** The operation succeeded. */
export const OK: i32 = 0;
/** The buffer ends before the segment table or a segment it announces. */
export const ERR_TRUNCATED: i32 = -1;
/** The segment table announces no segments, too many, or an empty first segment. */
export const ERR_SEGMENT_TABLE: i32 = -2;
/** A pointer's target lies (partly) outside its segment. */
export const ERR_OUT_OF_BOUNDS: i32 = -3;
/** A far pointer names a segment the message does not have. */
export const ERR_BAD_SEGMENT: i32 = -4;
/** A far pointer's landing pad is itself far (a loop) or malformed. */
export const ERR_BAD_LANDING_PAD: i32 = -5;
/** The pointer is of the wrong kind (list where a struct was expected, capability, ...). */
export const ERR_POINTER_KIND: i32 = -6;
/** A list's element encoding cannot be read as the expected element type. */
export const ERR_ELEMENT_SIZE: i32 = -7;
/** A composite list's tag word disagrees with the list's word count. */
export const ERR_BAD_COMPOSITE_TAG: i32 = -8;
/** Reading would exceed the message's traversal budget (amplification attack). */
export const ERR_TRAVERSAL_LIMIT: i32 = -9;
/** Pointers nest deeper than the nesting limit. */
export const ERR_NESTING_LIMIT: i32 = -10;
/** A Text value is empty or does not end in a NUL byte. */
export const ERR_TEXT_NOT_TERMINATED: i32 = -11;
/** A list index is past the end of the list. */
export const ERR_INDEX: i32 = -12;
/** The builder's buffer is too small for what is being added. */
export const ERR_OUT_OF_SPACE: i32 = -13;
/** A list has more elements than the encoding allows (2^29 - 1). */
export const ERR_LIST_TOO_LONG: i32 = -14;
/** A struct has more data words or pointers than the encoding allows (65535). */
export const ERR_STRUCT_TOO_LARGE: i32 = -15;

/** A short human-readable name for a status code (static strings only). */
export function statusName(code: i32): string {
  switch (code) {
    case OK: return "ok";
    case ERR_TRUNCATED: return "truncated";
    case ERR_SEGMENT_TABLE: return "bad segment table";
    case ERR_OUT_OF_BOUNDS: return "pointer out of bounds";
    case ERR_BAD_SEGMENT: return "far pointer to missing segment";
    case ERR_BAD_LANDING_PAD: return "bad far-pointer landing pad";
    case ERR_POINTER_KIND: return "wrong pointer kind";
    case ERR_ELEMENT_SIZE: return "incompatible list element size";
    case ERR_BAD_COMPOSITE_TAG: return "bad composite list tag";
    case ERR_TRAVERSAL_LIMIT: return "traversal limit exceeded";
    case ERR_NESTING_LIMIT: return "nesting limit exceeded";
    case ERR_TEXT_NOT_TERMINATED: return "text not NUL-terminated";
    case ERR_INDEX: return "list index out of range";
    case ERR_OUT_OF_SPACE: return "builder out of space";
    case ERR_LIST_TOO_LONG: return "list too long";
    case ERR_STRUCT_TOO_LARGE: return "struct too large";
    default: return "unknown status";
  }
}
