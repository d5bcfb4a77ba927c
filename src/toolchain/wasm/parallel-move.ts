// Parallel moves: a set of simultaneous "dst <- src" assignments (merging values
// into a label's locations, placing call arguments) emitted as a sequence that
// never overwrites a location before it has been read. Register cycles are broken
// with xchg (general registers) or the XMM temporary, so no general temporary is
// needed (call_indirect keeps its target in R11 across argument moves).
import { XMM_TEMP } from "./abi.js";
import { L_CONST, L_GPR, L_MEM, L_XMM, locKey, type Loc, type StackState } from "./func-state.js";
import type { ValType } from "./types.js";
import { R11 } from "./x64-writer.js";

export interface Move {
  t: ValType;
  dst: Loc;
  src: Loc;
}

function same(a: Loc, b: Loc): boolean {
  return a.k === b.k && a.k !== L_CONST && a.r === b.r;
}

export function parallelMove(st: StackState, moves: Move[]): void {
  const pending = moves.filter((m) => !same(m.dst, m.src));
  const w = st.w;
  while (pending.length > 0) {
    let progress = false;
    for (let k = 0; k < pending.length; k++) {
      const m = pending[k]!;
      const dk = locKey(m.dst);
      let blocked = false;
      for (let j = 0; j < pending.length; j++) {
        if (j !== k && locKey(pending[j]!.src) === dk) { blocked = true; break; }
      }
      if (blocked) continue;
      st.move(m.t, m.dst, m.src);
      pending.splice(k, 1);
      k--;
      progress = true;
    }
    if (progress) continue;
    // Every remaining destination is still to be read: a cycle. Break it at the first move.
    const m = pending.shift()!;
    const dk = locKey(m.dst);
    let saved: Loc;
    if (m.dst.k === L_GPR && m.src.k === L_GPR) {
      // After the exchange the two registers have traded values: readers of either follow.
      w.op("xchg", w.R(8, m.dst.r), w.R(8, m.src.r));
      const sk = locKey(m.src);
      for (const p of pending) {
        const pk = locKey(p.src);
        if (pk === dk) p.src = { k: L_GPR, r: m.src.r, lo: 0, hi: 0 };
        else if (pk === sk) p.src = { k: L_GPR, r: m.dst.r, lo: 0, hi: 0 };
      }
      continue;
    } else if (m.dst.k === L_XMM) {
      w.op("movaps", w.X(XMM_TEMP), w.X(m.dst.r));
      st.move(m.t, m.dst, m.src);
      saved = { k: L_XMM, r: XMM_TEMP, lo: 0, hi: 0 };
    } else if (m.dst.k === L_GPR) {
      w.op("mov", w.R(8, R11), w.R(8, m.dst.r));
      st.move(m.t, m.dst, m.src);
      saved = { k: L_GPR, r: R11, lo: 0, hi: 0 };
    } else if (m.dst.k === L_MEM) {
      w.op("mov", w.R(8, R11), w.M(8, 5, -1, 0, m.dst.r));
      st.move(m.t, m.dst, m.src);
      saved = { k: L_GPR, r: R11, lo: 0, hi: 0 };
    } else {
      throw new Error("wasm compiler: bad parallel move destination");
    }
    for (const p of pending) if (locKey(p.src) === dk) p.src = saved;
  }
}
