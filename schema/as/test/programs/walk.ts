// Guest program for the hostile-input tests: follows every pointer reachable
// from a message's root without a schema (the pointer kinds decide), so any
// out-of-bounds pointer, loop or amplification anywhere in the message is hit.
import {
  OK, ERR_POINTER_KIND, MessageReader, StructReader, ListReader, ELEMENT_VOID, ELEMENT_POINTER, ELEMENT_COMPOSITE,
} from "../../runtime/index";
import { scratch, release } from "./abi";
export { alloc } from "./abi";

const message = new MessageReader();
const root = new StructReader();

/** Follows pointer `i` of `s` as a struct, or else as a list. */
function walkPointer(s: StructReader, i: u32): i32 {
  if (!s.pointerIsSet(i)) return OK;
  const child = changetype<StructReader>(scratch(offsetof<StructReader>()));
  let r = s.readStruct(i, child);
  if (r == OK) r = walkStruct(child);
  release(changetype<usize>(child));
  if (r != ERR_POINTER_KIND) return r;
  const list = changetype<ListReader>(scratch(offsetof<ListReader>()));
  r = s.readList(i, ELEMENT_VOID, list);
  if (r == OK) r = walkList(list);
  release(changetype<usize>(list));
  return r;
}

function walkStruct(s: StructReader): i32 {
  for (let i: u32 = 0; i < s.pointerCount; i++) {
    const r = walkPointer(s, i);
    if (r != OK) return r;
  }
  return OK;
}

function walkList(list: ListReader): i32 {
  if (list.elementSize == ELEMENT_COMPOSITE) {
    const element = changetype<StructReader>(scratch(offsetof<StructReader>()));
    let r = OK;
    for (let i: u32 = 0; r == OK && i < list.length; i++) {
      r = list.getStruct(i, element);
      if (r == OK) r = walkStruct(element);
    }
    release(changetype<usize>(element));
    return r;
  }
  if (list.elementSize != ELEMENT_POINTER) return OK;
  let r = OK;
  for (let i: u32 = 0; r == OK && i < list.length; i++) {
    const child = changetype<StructReader>(scratch(offsetof<StructReader>()));
    r = list.getStructPointer(i, child);
    if (r == OK) r = walkStruct(child);
    release(changetype<usize>(child));
    if (r == ERR_POINTER_KIND) {
      const inner = changetype<ListReader>(scratch(offsetof<ListReader>()));
      r = list.getList(i, ELEMENT_VOID, inner);
      if (r == OK) r = walkList(inner);
      release(changetype<usize>(inner));
    }
  }
  return r;
}

/**
 * Validates the message at [inPtr, inPtr + inLen) by visiting every object.
 * Returns OK or the first runtime status that stopped the walk.
 */
export function walk(inPtr: usize, inLen: u32, traversalLimitWords: u32, nestingLimit: i32): i32 {
  let r = message.init(inPtr, inLen, <u64>traversalLimitWords, nestingLimit);
  if (r != OK) return r;
  r = root.readRoot(message);
  if (r != OK) return r;
  return walkStruct(root);
}

/** Words of traversal budget the last walk left unused. */
export function traversalLeft(): u32 {
  return <u32>message.traversalLeft;
}
