// Guest round-trip program for the code-generator fixture schema: each copy*
// entry point reads one struct type with the generated readers and rebuilds
// it with the generated builders; build* entry points make messages from
// scratch. The host builds inputs with capnp-es and decodes every output.
import {
  OK, MessageReader, MessageBuilder, ListReader, ListBuilder, TextReader, DataReader,
  ELEMENT_VOID, ELEMENT_BIT, ELEMENT_BYTE, ELEMENT_TWO_BYTES, ELEMENT_FOUR_BYTES, ELEMENT_EIGHT_BYTES,
  ELEMENT_POINTER, ELEMENT_COMPOSITE,
} from "../../runtime/index";
import {
  ScalarsReader, ScalarsBuilder, InnerReader, InnerBuilder, DefaultsReader, DefaultsBuilder, ListsReader,
  ListsBuilder, UnionsReader, UnionsBuilder, Unions, Unions_Choice, TreeReader, TreeBuilder, Tree,
  KeywordsReader, KeywordsBuilder, Keywords_Kind, Color, Reserved, answer, greeting, blob, blob_LENGTH, ratio,
  origin, origin_LENGTH, Calculator, Calculator_AddParams,
} from "../fixture";
import { scratch, release } from "./abi";
export { alloc } from "./abi";

const input = new MessageReader();
const output = new MessageBuilder();
const listR = new ListReader();
const listB = new ListBuilder();
const innerListR = new ListReader();
const innerListB = new ListBuilder();
const text = new TextReader();
const bytes = new DataReader();
const innerR = new InnerReader();
const innerB = new InnerBuilder();
const defaultsB = new DefaultsBuilder();
const defaultsR = new DefaultsReader();
const keywordsB = new KeywordsBuilder();
const keywordsR = new KeywordsReader();
const listsB = new ListsBuilder();
const listsR = new ListsReader();
const scalarsB = new ScalarsBuilder();
const scalarsR = new ScalarsReader();
const treeB = new TreeBuilder();
const treeR = new TreeReader();
const unionsB = new UnionsBuilder();
const unionsR = new UnionsReader();

/** Binds `input` to the message and `output` to the result buffer. */
function begin(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  const s = input.init(inPtr, inLen);
  return s != OK ? s : output.init(outPtr, outCap);
}

// ---- Scalars

export function copyScalars(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const r = scalarsR;
  const b = scalarsB;
  if ((s = begin(inPtr, inLen, outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  b.setFlag(r.getFlag());
  b.setI8(r.getI8());
  b.setI16(r.getI16());
  b.setI32(r.getI32());
  b.setI64(r.getI64());
  b.setU8(r.getU8());
  b.setU16(r.getU16());
  b.setU32(r.getU32());
  b.setU64(r.getU64());
  b.setF32(r.getF32());
  b.setF64(r.getF64());
  b.setColor(r.getColor());
  b.setFlag2(r.getFlag2());
  return <i32>output.byteLength();
}

// ---- Defaults: every getter's value is written back explicitly, so a
// wrong default would show up on the host as a wrong value.

export function copyDefaults(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const r = defaultsR;
  const b = defaultsB;
  if ((s = begin(inPtr, inLen, outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  b.setFlag(r.getFlag());
  b.setI8(r.getI8());
  b.setI16(r.getI16());
  b.setI32(r.getI32());
  b.setI64(r.getI64());
  b.setU8(r.getU8());
  b.setU16(r.getU16());
  b.setU32(r.getU32());
  b.setU64(r.getU64());
  b.setF32(r.getF32());
  b.setF64(r.getF64());
  b.setColor(r.getColor());
  if ((s = r.getText(text)) != OK) return s;
  if ((s = b.setText(text.ptr, text.length)) != OK) return s;
  if ((s = r.getData(bytes)) != OK) return s;
  if ((s = b.setData(bytes.ptr, bytes.length)) != OK) return s;
  if ((s = r.getInner(innerR)) != OK) return s;
  if ((s = b.initInner(innerB)) != OK) return s;
  if ((s = copyInner(innerR, innerB)) != OK) return s;
  if ((s = r.getNumbers(listR)) != OK) return s;
  if ((s = b.initNumbers(listR.length, listB)) != OK) return s;
  for (let i: u32 = 0; i < listR.length; i++) listB.setU16(i, listR.getU16(i));
  if ((s = r.getNames(listR)) != OK) return s;
  if ((s = b.initNames(listR.length, listB)) != OK) return s;
  if ((s = copyTextElements(listR, listB)) != OK) return s;
  return <i32>output.byteLength();
}

function copyInner(r: InnerReader, b: InnerBuilder): i32 {
  let s: i32;
  b.setId(r.getId());
  if (r.hasLabel()) {
    if ((s = r.getLabel(text)) != OK) return s;
    if ((s = b.setLabel(text.ptr, text.length)) != OK) return s;
  }
  return OK;
}

function copyTextElements(r: ListReader, b: ListBuilder): i32 {
  let s: i32;
  for (let i: u32 = 0; i < r.length; i++) {
    if ((s = r.getText(i, text)) != OK) return s;
    if ((s = b.setText(i, text.ptr, text.length)) != OK) return s;
  }
  return OK;
}

// ---- Lists

function copyPrimitive(r: ListReader, b: ListBuilder, size: u32): void {
  for (let i: u32 = 0; i < r.length; i++) {
    switch (size) {
      case ELEMENT_BIT: b.setBool(i, r.getBool(i)); break;
      case ELEMENT_BYTE: b.setU8(i, r.getU8(i)); break;
      case ELEMENT_TWO_BYTES: b.setU16(i, r.getU16(i)); break;
      case ELEMENT_FOUR_BYTES: b.setU32(i, r.getU32(i)); break;
      case ELEMENT_EIGHT_BYTES: b.setU64(i, r.getU64(i)); break;
      default: break; // void elements carry nothing
    }
  }
}

export function copyLists(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const r = listsR;
  const b = listsB;
  if ((s = begin(inPtr, inLen, outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  // Primitive lists, each read and rebuilt with its own element size.
  if (r.hasVoids()) {
    if ((s = r.getVoids(listR)) != OK) return s;
    if ((s = b.initVoids(listR.length, listB)) != OK) return s;
  }
  if (r.hasBools()) {
    if ((s = r.getBools(listR)) != OK) return s;
    if ((s = b.initBools(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_BIT);
  }
  if (r.hasI8s()) {
    if ((s = r.getI8s(listR)) != OK) return s;
    if ((s = b.initI8s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setI8(i, listR.getI8(i));
  }
  if (r.hasI16s()) {
    if ((s = r.getI16s(listR)) != OK) return s;
    if ((s = b.initI16s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setI16(i, listR.getI16(i));
  }
  if (r.hasI32s()) {
    if ((s = r.getI32s(listR)) != OK) return s;
    if ((s = b.initI32s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setI32(i, listR.getI32(i));
  }
  if (r.hasI64s()) {
    if ((s = r.getI64s(listR)) != OK) return s;
    if ((s = b.initI64s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setI64(i, listR.getI64(i));
  }
  if (r.hasU8s()) {
    if ((s = r.getU8s(listR)) != OK) return s;
    if ((s = b.initU8s(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_BYTE);
  }
  if (r.hasU16s()) {
    if ((s = r.getU16s(listR)) != OK) return s;
    if ((s = b.initU16s(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_TWO_BYTES);
  }
  if (r.hasU32s()) {
    if ((s = r.getU32s(listR)) != OK) return s;
    if ((s = b.initU32s(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_FOUR_BYTES);
  }
  if (r.hasU64s()) {
    if ((s = r.getU64s(listR)) != OK) return s;
    if ((s = b.initU64s(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_EIGHT_BYTES);
  }
  if (r.hasF32s()) {
    if ((s = r.getF32s(listR)) != OK) return s;
    if ((s = b.initF32s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setF32(i, listR.getF32(i));
  }
  if (r.hasF64s()) {
    if ((s = r.getF64s(listR)) != OK) return s;
    if ((s = b.initF64s(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) listB.setF64(i, listR.getF64(i));
  }
  if (r.hasColors()) {
    if ((s = r.getColors(listR)) != OK) return s;
    if ((s = b.initColors(listR.length, listB)) != OK) return s;
    copyPrimitive(listR, listB, ELEMENT_TWO_BYTES);
  }
  // Pointer lists.
  if (r.hasTexts()) {
    if ((s = r.getTexts(listR)) != OK) return s;
    if ((s = b.initTexts(listR.length, listB)) != OK) return s;
    if ((s = copyTextElements(listR, listB)) != OK) return s;
  }
  if (r.hasBlobs()) {
    if ((s = r.getBlobs(listR)) != OK) return s;
    if ((s = b.initBlobs(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) {
      if ((s = listR.getData(i, bytes)) != OK) return s;
      if ((s = listB.setData(i, bytes.ptr, bytes.length)) != OK) return s;
    }
  }
  if (r.hasInners()) {
    if ((s = r.getInners(listR)) != OK) return s;
    if ((s = b.initInners(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) {
      if ((s = listR.getStruct(i, innerR)) != OK) return s;
      if ((s = listB.getStruct(i, innerB)) != OK) return s;
      if ((s = copyInner(innerR, innerB)) != OK) return s;
    }
  }
  if (r.hasMatrix()) {
    if ((s = r.getMatrix(listR)) != OK) return s;
    if ((s = b.initMatrix(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) {
      if ((s = listR.getList(i, ELEMENT_FOUR_BYTES, innerListR)) != OK) return s;
      if ((s = listB.initList(i, ELEMENT_FOUR_BYTES, innerListR.length, innerListB)) != OK) return s;
      copyPrimitive(innerListR, innerListB, ELEMENT_FOUR_BYTES);
    }
  }
  if (r.hasSentences()) {
    if ((s = r.getSentences(listR)) != OK) return s;
    if ((s = b.initSentences(listR.length, listB)) != OK) return s;
    for (let i: u32 = 0; i < listR.length; i++) {
      if ((s = listR.getList(i, ELEMENT_POINTER, innerListR)) != OK) return s;
      if ((s = listB.initList(i, ELEMENT_POINTER, innerListR.length, innerListB)) != OK) return s;
      if ((s = copyTextElements(innerListR, innerListB)) != OK) return s;
    }
  }
  return <i32>output.byteLength();
}

// ---- Unions and groups

export function copyUnions(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const r = unionsR;
  const b = unionsB;
  if ((s = begin(inPtr, inLen, outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  b.setCommon(r.getCommon());
  switch (r.which()) {
    case Unions.Which.none: b.setNone(); break;
    case Unions.Which.number_: b.setNumber(r.getNumber()); break;
    case Unions.Which.text:
      if ((s = r.getText(text)) != OK) return s;
      if ((s = b.setText(text.ptr, text.length)) != OK) return s;
      break;
    case Unions.Which.inner:
      if ((s = r.getInner(innerR)) != OK) return s;
      if ((s = b.initInner(innerB)) != OK) return s;
      if ((s = copyInner(innerR, innerB)) != OK) return s;
      break;
    case Unions.Which.pair: {
      const pr = r.getPair();
      const pb = b.initPair();
      pb.setLeft(pr.getLeft());
      if ((s = pr.getRight(text)) != OK) return s;
      if ((s = pb.setRight(text.ptr, text.length)) != OK) return s;
      break;
    }
    default: return -1000;
  }
  const choice = r.getChoice();
  if (choice.isSmall()) b.getChoice().setSmall(choice.getSmall());
  else if (choice.which() == Unions_Choice.Which.flag) b.getChoice().setFlag(choice.getFlag());
  const settings = r.getSettings();
  b.getSettings().setLevel(settings.getLevel());
  if (settings.getDetail().hasNote()) {
    if ((s = settings.getDetail().getNote(text)) != OK) return s;
    if ((s = b.getSettings().getDetail().setNote(text.ptr, text.length)) != OK) return s;
  }
  return <i32>output.byteLength();
}

/** Builds a Unions with the pair group selected, after first selecting `text` (which init must reset). */
export function buildUnionsReselect(outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const b = unionsB;
  if ((s = output.init(outPtr, outCap)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  if ((s = b.setTextString("replaced")) != OK) return s;
  const pair = b.initPair();
  pair.setLeft(7);
  if ((s = pair.setRightString("seven")) != OK) return s;
  b.getChoice().setFlag(true);
  b.getSettings().setLevel(3);
  if ((s = b.getSettings().getDetail().setNoteString("détail ✓")) != OK) return s;
  return <i32>output.byteLength();
}

// ---- Recursion

function copyTree(r: TreeReader, b: TreeBuilder): i32 {
  let s: i32;
  b.setValue(r.getValue());
  if (!r.hasChildren()) return OK;
  // Each level needs its own list and element views; take them from the
  // heap top and give them back in reverse order.
  const childrenR = changetype<ListReader>(scratch(offsetof<ListReader>()));
  const childrenB = changetype<ListBuilder>(scratch(offsetof<ListBuilder>()));
  const childR = changetype<TreeReader>(scratch(offsetof<TreeReader>()));
  const childB = changetype<TreeBuilder>(scratch(offsetof<TreeBuilder>()));
  s = r.getChildren(childrenR);
  if (s == OK) s = b.initChildren(childrenR.length, childrenB);
  for (let i: u32 = 0; s == OK && i < childrenR.length; i++) {
    s = childrenR.getStruct(i, childR);
    if (s == OK) s = childrenB.getStruct(i, childB);
    if (s == OK) s = copyTree(childR, childB);
  }
  release(changetype<usize>(childB));
  release(changetype<usize>(childR));
  release(changetype<usize>(childrenB));
  release(changetype<usize>(childrenR));
  return s;
}

export function copyTreeMessage(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32, nestingLimit: i32): i32 {
  let s: i32;
  const r = treeR;
  const b = treeB;
  if ((s = input.init(inPtr, inLen, 1 << 20, nestingLimit)) != OK) return s;
  if ((s = output.init(outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  if ((s = copyTree(r, b)) != OK) return s;
  return <i32>output.byteLength();
}

// ---- Reserved-word names

export function copyKeywords(inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const r = keywordsR;
  const b = keywordsB;
  if ((s = begin(inPtr, inLen, outPtr, outCap)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  b.setType(r.getType());
  if ((s = r.getExport(text)) != OK) return s;
  if ((s = b.setExport(text.ptr, text.length)) != OK) return s;
  const kind = r.getKind();
  if (kind.which() == Keywords_Kind.Which.class_) b.getKind().setClass();
  else if (kind.isNew()) b.getKind().setNew(kind.getNew());
  return <i32>output.byteLength();
}

// ---- Built from scratch by the guest

/** A Lists message with known contents (checked value by value on the host). */
export function buildLists(outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const b = listsB;
  if ((s = output.init(outPtr, outCap)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  if ((s = b.initVoids(3, listB)) != OK) return s;
  if ((s = b.initBools(10, listB)) != OK) return s;
  for (let i: u32 = 0; i < 10; i++) listB.setBool(i, i % 3 == 0);
  if ((s = b.initI8s(2, listB)) != OK) return s;
  listB.setI8(0, -128);
  listB.setI8(1, 127);
  if ((s = b.initI64s(2, listB)) != OK) return s;
  listB.setI64(0, i64.MIN_VALUE);
  listB.setI64(1, -1);
  if ((s = b.initU32s(3, listB)) != OK) return s;
  for (let i: u32 = 0; i < 3; i++) listB.setU32(i, 0xfffffff0 + i);
  if ((s = b.initF64s(2, listB)) != OK) return s;
  listB.setF64(0, 0.1);
  listB.setF64(1, -Infinity);
  if ((s = b.initColors(3, listB)) != OK) return s;
  listB.setU16(0, Color.blue);
  listB.setU16(1, Color.red);
  listB.setU16(2, Color.green);
  if ((s = b.initTexts(3, listB)) != OK) return s;
  if ((s = listB.setTextString(0, "")) != OK) return s;
  if ((s = listB.setTextString(1, "naïve ☃ 𝄞")) != OK) return s;
  if ((s = listB.setTextString(2, "\ud800 lone")) != OK) return s;
  if ((s = b.initBlobs(1, listB)) != OK) return s;
  if ((s = listB.initData(0, 4, innerListB)) != OK) return s;
  store<u32>(innerListB.ptr, 0xdeadbeef);
  if ((s = b.initInners(2, listB)) != OK) return s;
  for (let i: u32 = 0; i < 2; i++) {
    if ((s = listB.getStruct(i, innerB)) != OK) return s;
    innerB.setId(100 + i);
    if ((s = innerB.setLabelString(i == 0 ? "first" : "second")) != OK) return s;
  }
  if ((s = b.initMatrix(2, listB)) != OK) return s;
  for (let i: u32 = 0; i < 2; i++) {
    if ((s = listB.initList(i, ELEMENT_FOUR_BYTES, i + 1, innerListB)) != OK) return s;
    for (let j: u32 = 0; j <= i; j++) innerListB.setU32(j, i * 10 + j);
  }
  if ((s = b.initSentences(1, listB)) != OK) return s;
  if ((s = listB.initList(0, ELEMENT_POINTER, 2, innerListB)) != OK) return s;
  if ((s = innerListB.setTextString(0, "hello")) != OK) return s;
  if ((s = innerListB.setTextString(1, "world")) != OK) return s;
  return <i32>output.byteLength();
}

/** Builds a message that needs `outCap` to be large: used to check ERR_OUT_OF_SPACE. */
export function buildTooLarge(outPtr: usize, outCap: u32): i32 {
  let s: i32;
  const b = listsB;
  if ((s = output.init(outPtr, outCap)) != OK) return s;
  if ((s = b.makeRoot(output)) != OK) return s;
  if ((s = b.initU64s(1000, listB)) != OK) return s;
  return <i32>output.byteLength();
}

// ---- Constants and ids

/** A bitmask of checks on the generated constants and ids; all bits set means every check passed. */
export function checkConstants(): u32 {
  let ok: u32 = 0;
  if (answer == 42) ok |= 1;
  if (greeting == "hello") ok |= 2;
  if (blob_LENGTH == 2 && load<u8>(blob) == 0xca && load<u8>(blob + 1) == 0xfe) ok |= 4;
  if (ratio == 3.25) ok |= 8;
  // origin is a one-segment message holding Inner(id = 1, label = "origin").
  if (input.init(origin, origin_LENGTH) == OK && innerR.readRoot(input) == OK && innerR.getId() == 1) {
    if (innerR.getLabel(text) == OK && text.equals("origin")) ok |= 16;
  }
  if (Calculator.Method.add == 0 && Calculator.Method.reset == 1) ok |= 32;
  if (Calculator_AddParams.DATA_WORDS == 1 && Calculator_AddParams.POINTER_COUNT == 0) ok |= 64;
  if (Reserved.class_ == 0 && Reserved.new_ == 1 && Reserved.type_ == 2) ok |= 128;
  if (Tree.POINTER_COUNT == 1 && Tree.DATA_WORDS == 1) ok |= 256;
  return ok;
}

/** The interface id of Calculator (compared with the schema's type id on the host). */
export function calculatorInterfaceId(): u64 {
  return Calculator.INTERFACE_ID;
}

/** Reads element `i` of the root Lists' u8s list upgraded to a struct list: exercises the compatibility rules. */
export function readUpgradedCount(inPtr: usize, inLen: u32): i32 {
  let s: i32;
  const r = listsR;
  if ((s = input.init(inPtr, inLen)) != OK) return s;
  if ((s = r.readRoot(input)) != OK) return s;
  // Read `inners` (a struct list) as written by a sender that used a
  // different element encoding; the host supplies such a message.
  if ((s = r.getInners(listR)) != OK) return s;
  let sum: i32 = 0;
  for (let i: u32 = 0; i < listR.length; i++) {
    if ((s = listR.getStruct(i, innerR)) != OK) return s;
    sum += <i32>innerR.getId();
  }
  return sum;
}

/** The element-size constants, so the host can check they match the wire encoding. */
export function elementSizes(): u32 {
  return ELEMENT_VOID | (ELEMENT_BIT << 3) | (ELEMENT_BYTE << 6) | (ELEMENT_TWO_BYTES << 9) |
    (ELEMENT_FOUR_BYTES << 12) | (ELEMENT_EIGHT_BYTES << 15) | (ELEMENT_POINTER << 18) | (ELEMENT_COMPOSITE << 21);
}
