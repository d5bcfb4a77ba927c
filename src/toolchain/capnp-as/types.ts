// How each Cap'n Proto field type maps onto the guest runtime: the
// AssemblyScript value type, the runtime accessor names, the list element
// size, and how a default value is written as an AssemblyScript literal.
import { Type, Value } from "capnp-es/capnp/schema";

export interface PrimitiveKind {
  /** AssemblyScript value type. */
  asType: string;
  /** Runtime method suffix: readU32 / writeU32 on structs, getU32 / setU32 on lists. */
  accessor: string;
  /** Width in bits; slot offsets are in units of this. */
  bits: number;
  /** Runtime ELEMENT_* constant for a list of these. */
  element: string;
}

const PRIMITIVES = new Map<number, PrimitiveKind>([
  [Type.BOOL, { asType: "bool", accessor: "Bool", bits: 1, element: "ELEMENT_BIT" }],
  [Type.INT8, { asType: "i8", accessor: "I8", bits: 8, element: "ELEMENT_BYTE" }],
  [Type.INT16, { asType: "i16", accessor: "I16", bits: 16, element: "ELEMENT_TWO_BYTES" }],
  [Type.INT32, { asType: "i32", accessor: "I32", bits: 32, element: "ELEMENT_FOUR_BYTES" }],
  [Type.INT64, { asType: "i64", accessor: "I64", bits: 64, element: "ELEMENT_EIGHT_BYTES" }],
  [Type.UINT8, { asType: "u8", accessor: "U8", bits: 8, element: "ELEMENT_BYTE" }],
  [Type.UINT16, { asType: "u16", accessor: "U16", bits: 16, element: "ELEMENT_TWO_BYTES" }],
  [Type.UINT32, { asType: "u32", accessor: "U32", bits: 32, element: "ELEMENT_FOUR_BYTES" }],
  [Type.UINT64, { asType: "u64", accessor: "U64", bits: 64, element: "ELEMENT_EIGHT_BYTES" }],
  [Type.FLOAT32, { asType: "f32", accessor: "F32", bits: 32, element: "ELEMENT_FOUR_BYTES" }],
  [Type.FLOAT64, { asType: "f64", accessor: "F64", bits: 64, element: "ELEMENT_EIGHT_BYTES" }],
  // Enums travel as UInt16.
  [Type.ENUM, { asType: "u16", accessor: "U16", bits: 16, element: "ELEMENT_TWO_BYTES" }],
]);

/** The primitive mapping of a type, or undefined for void and pointer types. */
export function primitiveKind(type: Type): PrimitiveKind | undefined {
  return PRIMITIVES.get(type.which());
}

/** The ELEMENT_* size a List(elementType) is encoded with. */
export function listElementConstant(elementType: Type): string {
  const which = elementType.which();
  if (which === Type.VOID) return "ELEMENT_VOID";
  if (which === Type.STRUCT) return "ELEMENT_COMPOSITE";
  const prim = PRIMITIVES.get(which);
  return prim === undefined ? "ELEMENT_POINTER" : prim.element;
}

function hexBits(value: bigint, digits: number): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

function float32Bits(v: number): bigint {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, v, true);
  return BigInt(view.getUint32(0, true));
}

function float64Bits(v: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return view.getBigUint64(0, true);
}

/**
 * The default of a primitive slot as the literal the runtime accessor takes:
 * the value itself for integers and Bool, the bit pattern for floats.
 */
export function primitiveDefault(type: Type, value: Value): string {
  const literal = castLiteral(type, value);
  // Zero needs no cast: it reads as the accessor's parameter type.
  return /^<[a-z0-9]+>0x0*$|^<[a-z0-9]+>0$/.test(literal) ? "0" : literal;
}

function castLiteral(type: Type, value: Value): string {
  switch (type.which()) {
    case Type.BOOL: return value.bool ? "true" : "false";
    case Type.INT8: return `<i8>${value.int8}`;
    case Type.INT16: return `<i16>${value.int16}`;
    case Type.INT32: return `<i32>${value.int32}`;
    case Type.INT64: return `<i64>${hexBits(BigInt.asUintN(64, value.int64), 16)}`;
    case Type.UINT8: return `<u8>${value.uint8}`;
    case Type.UINT16: return `<u16>${value.uint16}`;
    case Type.UINT32: return `<u32>${value.uint32}`;
    case Type.UINT64: return `<u64>${hexBits(value.uint64, 16)}`;
    case Type.FLOAT32: return `<u32>${hexBits(float32Bits(value.float32), 8)}`;
    case Type.FLOAT64: return `<u64>${hexBits(float64Bits(value.float64), 16)}`;
    case Type.ENUM: return `<u16>${value.enum}`;
    default: throw new Error(`capnp-as: type ${type.which()} is not primitive`);
  }
}

/** The value of a primitive constant as an AssemblyScript expression of its own type. */
export function primitiveConstant(type: Type, value: Value): string {
  switch (type.which()) {
    case Type.FLOAT32: return `reinterpret<f32>(${castLiteral(type, value)})`;
    case Type.FLOAT64: return `reinterpret<f64>(${castLiteral(type, value)})`;
    default: return castLiteral(type, value);
  }
}
