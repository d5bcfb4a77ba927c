// Single-pass compilation of one wasm function to x86-64, in the style of a
// baseline JIT: operators stream from the reader once; the operand stack is
// tracked abstractly (func-state.ts) and kept in registers; structured control
// flow becomes labels whose merge locations are fixed by the first branch.
// Numeric, memory and conversion operators live in ops-*.ts; this file owns the
// frame, locals, control flow, calls, traps and the dispatch loop.
import type { BinaryReader, IOperatorInformation, Int64 } from "wasmparser";
import {
  callLayout, LOCAL_GPRS_BASED, LOCAL_GPRS_USER, MEMORY_BASE_REG, SCRATCH_GPRS, SCRATCH_XMMS, SYM_STACK_LIMIT, SYM_TRAP,
  TABLE_HEADER, TABLE_SIZE, ENTRY_CODE, ENTRY_SIG, TRAP_INDIRECT_CALL_TYPE_MISMATCH, TRAP_STACK_EXHAUSTED,
  TRAP_UNDEFINED_ELEMENT, TRAP_UNINITIALIZED_ELEMENT, TRAP_UNREACHABLE, type CallLayout,
} from "./abi.js";
import type { IntrinsicHost, MemoryModel, ModuleContext } from "./context.js";
import { int64Halves, literalBits, READER_CODE_OPERATOR, READER_END_FUNCTION_BODY, READER_ERROR, valTypeOf } from "./decode.js";
import { WasmCompileError, hexOffset } from "./errors.js";
import {
  CC_FEQ, CC_FNE, CC_NAMES, CC_NE, invertCC, K_CONST, K_FLAGS, K_LOCAL, K_REG, K_SLOT,
  L_GPR, L_MEM, L_XMM, sizeOf, StackState, type Loc,
} from "./func-state.js";
import { OP } from "./opcodes.js";
import { emitMemoryOp } from "./ops-memory.js";
import { emitNumericOp } from "./ops-numeric.js";
import { parallelMove, type Move } from "./parallel-move.js";
import { F32, F64, I32, I64, isFloat, type FuncType, type ValType } from "./types.js";
import { NONE, R11, RBP, RCX, RDI, RDX, RSI, RSP, X64Writer } from "./x64-writer.js";

const F_BLOCK = 0, F_LOOP = 1, F_IF = 2, F_FUNC = 3;

interface Frame {
  kind: number;
  params: readonly ValType[];
  results: readonly ValType[];
  /** Stack height below the frame's parameters. */
  base: number;
  /** The branch target: loop head, or the end of block/if/function. */
  label: number;
  /** if: the label of the else arm (-1 once bound). */
  elseLabel: number;
  /** Where branch values must be at the label (chosen by the first branch; loops and the function fix it at entry). */
  merge: Loc[] | null;
  /** Some branch targets the label. */
  branched: boolean;
  /** if: the parameter entries at entry, restored for the else arm. */
  snap: { kind: number[]; reg: number[]; lo: number[]; hi: number[] } | null;
}

interface TrapStub {
  label: number;
  kind: number;
  offset: number;
}

export class FunctionCompiler implements IntrinsicHost {
  readonly w: X64Writer;
  readonly st: StackState;
  readonly memoryModel: MemoryModel;
  funcIndex = 0;
  type!: FuncType;
  /** Module byte offset of the operator being compiled (trap reports). */
  opOffset = 0;
  unreachable = false;
  private deadDepth = 0;
  private frames: Frame[] = [];
  private trapStubs: TrapStub[] = [];
  private trapIndex = new Map<number, number>();
  private outOfLine: (() => void)[] = [];
  private savedRegs: number[] = [];
  private frameSizeAt = -1;
  private epilogue = -1;
  private pendingOps = 0;
  private reader!: BinaryReader;

  constructor(readonly mc: ModuleContext) {
    this.w = mc.w;
    this.st = new StackState(mc.w, mc.pool);
    this.memoryModel = mc.opts.memoryModel;
  }

  // =====================================================================
  // Entry
  // =====================================================================

  compile(reader: BinaryReader, funcIndex: number, locals: readonly { count: number; type: ValType }[]): void {
    this.reader = reader;
    this.funcIndex = funcIndex;
    const decl = this.mc.m.funcs[funcIndex]!;
    this.type = decl.type;
    this.frames = [];
    this.trapStubs = [];
    this.trapIndex.clear();
    this.outOfLine = [];
    this.unreachable = false;
    this.deadDepth = 0;
    this.pendingOps = 0;
    this.st.reset();
    const bodyStart = reader.position;

    this.setupLocals(locals);
    this.prologue();
    const w = this.w;
    this.epilogue = w.newLabel();
    const layout = callLayout(this.type.params, this.type.results);
    const fnFrame: Frame = {
      kind: F_FUNC, params: [], results: this.type.results, base: 0, label: this.epilogue, elseLabel: -1,
      merge: layout.results.map((a, k) => abiLoc(a, this.type.results[k]!)), branched: false, snap: null,
    };
    this.frames.push(fnFrame);

    for (;;) {
      const pos = reader.position;
      if (!reader.read()) throw new WasmCompileError("malformed", `function ${funcIndex}: body runs past the end of the module`);
      if (reader.state === READER_END_FUNCTION_BODY) break;
      if (reader.state === READER_ERROR) {
        throw new WasmCompileError("malformed", `function ${funcIndex} at ${hexOffset(pos)}: ${reader.error?.message ?? "bad operator"}`);
      }
      if (reader.state !== READER_CODE_OPERATOR) continue;
      this.opOffset = pos;
      const op = reader.result as IOperatorInformation;
      if (this.unreachable) { this.dead(op); continue; }
      this.pendingOps++;
      this.dispatch(op);
    }
    if (this.frames.length !== 0) throw new WasmCompileError("malformed", `function ${funcIndex} (body at ${hexOffset(bodyStart)}): missing end`);

    // Epilogue, then out-of-line code and trap stubs.
    w.bind(this.epilogue);
    if (this.savedRegs.length === 0) {
      w.op("mov", w.R(8, RSP), w.R(8, RBP));
    } else {
      w.op("lea", w.R(8, RSP), w.M(0, RBP, NONE, 0, -8 * this.savedRegs.length));
      for (let k = this.savedRegs.length - 1; k >= 0; k--) w.op("pop", w.R(8, this.savedRegs[k]!));
    }
    w.op("pop", w.R(8, RBP));
    w.op("ret");
    for (let k = 0; k < this.outOfLine.length; k++) this.outOfLine[k]!();
    for (const t of this.trapStubs) {
      w.bind(t.label);
      w.op("mov", w.R(4, RDI), w.I(4, t.kind));
      w.op("mov", w.R(4, RSI), w.I(4, this.funcIndex));
      w.op("mov", w.R(4, RDX), w.I(4, t.offset));
      w.branchSym("call", SYM_TRAP);
      w.op("ud2");
    }
    // Frame size: locals and spill slots, keeping RSP 16-byte aligned at calls.
    let frame = this.st.slotBase - 8 * this.savedRegs.length + 8 * this.st.maxDepth;
    if ((frame + 8 * this.savedRegs.length) % 16 !== 0) frame += 8;
    w.patch32(this.frameSizeAt, frame);
  }

  // =====================================================================
  // Locals and frame
  // =====================================================================

  private setupLocals(locals: readonly { count: number; type: ValType }[]): void {
    const st = this.st;
    const types: ValType[] = [...this.type.params];
    for (const l of locals) {
      if (types.length + l.count > 50000) throw new WasmCompileError("invalid", `function ${this.funcIndex}: too many locals`);
      for (let k = 0; k < l.count; k++) types.push(l.type);
    }
    const pool = this.memoryModel === "user" ? LOCAL_GPRS_USER : LOCAL_GPRS_BASED;
    const layout = callLayout(this.type.params, this.type.results);
    st.localType = types;
    st.localReg = new Array<number>(types.length).fill(-1);
    st.localDisp = new Array<number>(types.length).fill(0);
    st.localRefs = new Int32Array(types.length);
    let nextReg = 0;
    const saved: number[] = [];
    for (let k = 0; k < types.length; k++) {
      if (!isFloat(types[k]!) && nextReg < pool.length) {
        st.localReg[k] = pool[nextReg++]!;
        saved.push(st.localReg[k]!);
      }
    }
    this.savedRegs = saved;
    let off = 8 * saved.length;
    for (let k = 0; k < types.length; k++) {
      if (st.localReg[k]! >= 0) continue;
      const p = k < this.type.params.length ? layout.params[k]! : null;
      if (p !== null && p.slot >= 0) { st.localDisp[k] = 16 + 8 * p.slot; continue; }
      off += 8;
      st.localDisp[k] = -off;
    }
    st.slotBase = off;
  }

  private prologue(): void {
    const w = this.w;
    const st = this.st;
    w.op("push", w.R(8, RBP));
    w.op("mov", w.R(8, RBP), w.R(8, RSP));
    for (const r of this.savedRegs) w.op("push", w.R(8, r));
    w.op("sub", w.R(8, RSP), w.I(8, 0x12345678));
    this.frameSizeAt = w.len - 4;
    w.op("cmp", w.R(8, RSP), w.MS(8, SYM_STACK_LIMIT));
    // Stack exhaustion is reported at the body's first byte.
    w.branch("jb", this.trapLabel(TRAP_STACK_EXHAUSTED, this.reader.position));
    // Parameters to their homes (argument registers never alias callee-saved homes).
    const layout = callLayout(this.type.params, this.type.results);
    const nParams = this.type.params.length;
    for (let k = 0; k < nParams; k++) {
      const a = layout.params[k]!;
      if (a.reg < 0) continue;
      const t = st.localType[k]!;
      const src: Loc = { k: isFloat(t) ? L_XMM : L_GPR, r: a.reg, lo: 0, hi: 0 };
      const lr = st.localReg[k]!;
      if (lr >= 0) st.move(t, { k: L_GPR, r: lr, lo: 0, hi: 0 }, src);
      else st.storeToMem(st.localDisp[k]!, t, src);
    }
    // Stack parameters homed in registers.
    for (let k = 0; k < nParams; k++) {
      const a = layout.params[k]!;
      if (a.slot < 0 || st.localReg[k]! < 0) continue;
      st.move(st.localType[k]!, { k: L_GPR, r: st.localReg[k]!, lo: 0, hi: 0 }, { k: L_MEM, r: 16 + 8 * a.slot, lo: 0, hi: 0 });
    }
    // Zero the declared locals.
    let slotLocals = 0;
    for (let k = nParams; k < st.localType.length; k++) {
      const lr = st.localReg[k]!;
      if (lr >= 0) w.op("mov", w.R(4, lr), w.I(4, 0));
      else slotLocals++;
    }
    if (slotLocals > 16) {
      // Declared locals' slots are contiguous at the bottom of the local area: rep stosq
      // (RAX, RCX, RDI are free once the parameters are home).
      w.op("xor", w.R(4, 0), w.R(4, 0));
      w.op("lea", w.R(8, RDI), w.M(0, RBP, NONE, 0, -st.slotBase));
      w.op("mov", w.R(4, RCX), w.I(4, slotLocals));
      w.op("rep stos", w.M(8, RDI, NONE, 0, 0), w.R(8, 0));
    } else {
      for (let k = nParams; k < st.localType.length; k++) {
        if (st.localReg[k]! < 0) w.op("mov", w.M(8, RBP, NONE, 0, st.localDisp[k]!), w.I(8, 0));
      }
    }
  }

  // =====================================================================
  // Traps and out-of-line code
  // =====================================================================

  /** The label of a trap stub for `kind` at `offset` (shared by identical traps). */
  trapLabel(kind: number, offset = this.opOffset): number {
    const key = offset * 16 + kind;
    const k = this.trapIndex.get(key);
    if (k !== undefined) return this.trapStubs[k]!.label;
    const label = this.w.newLabel();
    this.trapIndex.set(key, this.trapStubs.length);
    this.trapStubs.push({ label, kind, offset });
    return label;
  }

  /**
   * Records that the next instruction accesses linear memory, for the module's
   * PC map: where the MMU bounds memory, the embedding maps a faulting RIP back
   * to the wasm operator with it.
   */
  notePc(): void {
    this.mc.pcMap.push(this.w.len, this.opOffset);
  }

  /** Schedules code placed after the function body (slow paths); returns its label. */
  outOfLineCode(emit: () => void): number {
    const label = this.w.newLabel();
    this.outOfLine.push(() => {
      this.w.bind(label);
      emit();
    });
    return label;
  }

  // =====================================================================
  // Benchmark instrumentation
  // =====================================================================

  /** Adds the wasm instructions counted since the last flush to the counter (flags preserved when live). */
  flushCount(): void {
    const sym = this.mc.opts.countOpsSymbol;
    if (sym === null || this.pendingOps === 0) return;
    const w = this.w;
    const st = this.st;
    const flagsLive = st.sp > 0 && st.kind[st.sp - 1] === K_FLAGS;
    if (flagsLive) w.op("pushfq");
    w.op("add", w.MS(8, sym), w.I(8, this.pendingOps));
    if (flagsLive) w.op("popfq");
    this.pendingOps = 0;
  }

  private bindLabel(l: number): void {
    this.flushCount();
    this.w.bind(l);
  }

  // =====================================================================
  // Condition handling
  // =====================================================================

  /** Turns a pending comparison at entry i into a 0/1 register value. */
  materializeFlags(i: number): void {
    const st = this.st;
    const w = this.w;
    const cc = st.lo[i]!;
    const r = st.allocGpr();
    if (cc === CC_FEQ || cc === CC_FNE) {
      w.op(cc === CC_FEQ ? "setnp" : "setp", w.R(1, R11));
      w.op(cc === CC_FEQ ? "sete" : "setne", w.R(1, r));
      w.op(cc === CC_FEQ ? "and" : "or", w.R(1, r), w.R(1, R11));
    } else {
      w.op(`set${CC_NAMES[cc]}`, w.R(1, r));
    }
    w.op("movzx", w.R(4, r), w.R(1, r));
    st.becomesRegister(i);
    st.reg[i] = r;
    st.gprOwner[r] = i;
  }

  /**
   * Pops an i32 condition and returns the x86 condition code that holds when it
   * is true (comparisons stay in the flags; other values are tested against zero).
   * Returns -1 for a constant false and -2 for a constant true.
   */
  popCondition(): number {
    const st = this.st;
    const w = this.w;
    const i = st.sp - 1;
    if (st.kind[i] === K_FLAGS) { const cc = st.lo[i]!; st.drop(1); return cc; }
    if (st.kind[i] === K_CONST) { const v = st.lo[i]!; st.drop(1); return v !== 0 ? -2 : -1; }
    const r = st.gprOf(i);
    if (r >= 0) w.op("test", w.R(4, r), w.R(4, r));
    else w.op("cmp", st.intSrc(i, 4), w.I(4, 0));
    st.drop(1);
    return CC_NE;
  }

  /** Jumps to `label` when condition cc holds (handles the two-flag float conditions). */
  jumpIf(cc: number, label: number): void {
    const w = this.w;
    if (cc === -2) { w.branch("jmp", label); return; }
    if (cc === -1) return;
    if (cc === CC_FNE) { w.branch("jp", label); w.branch("jne", label); return; }
    if (cc === CC_FEQ) {
      const skip = w.newLabel();
      w.branch("jp", skip, true);
      w.branch("je", label);
      w.bind(skip);
      return;
    }
    w.branch(`j${CC_NAMES[cc]}`, label);
  }

  jumpIfNot(cc: number, label: number): void {
    if (cc === -2) return;
    if (cc === -1) { this.w.branch("jmp", label); return; }
    this.jumpIf(cc >= 16 ? cc ^ 1 : invertCC(cc), label);
  }

  // =====================================================================
  // Control flow
  // =====================================================================

  private blockSig(op: IOperatorInformation): { params: readonly ValType[]; results: readonly ValType[] } {
    const bt = op.blockType as unknown as { code: number };
    if (bt.code >= 0) {
      const t = this.mc.m.types[bt.code];
      if (t === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: unknown block type ${bt.code}`);
      return { params: t.params, results: t.results };
    }
    if (bt.code === -64) return { params: [], results: [] };
    return { params: [], results: [valTypeOf(bt, `function ${this.funcIndex} block type`)] };
  }

  private arity(f: Frame): readonly ValType[] {
    return f.kind === F_LOOP ? f.params : f.results;
  }

  /** Picks merge locations for the top values: their current registers where possible. */
  private chooseMerge(types: readonly ValType[], base: number): Loc[] {
    const st = this.st;
    const n = types.length;
    const top = st.sp - n;
    let takenG = 0, takenX = 0;
    const out: Loc[] = [];
    for (let j = 0; j < n; j++) {
      const i = top + j;
      const t = types[j]!;
      const fl = isFloat(t);
      if (st.kind[i] === K_REG) {
        const r = st.reg[i]!;
        const taken = fl ? takenX : takenG;
        if ((taken & (1 << r)) === 0) {
          if (fl) takenX |= 1 << r; else takenG |= 1 << r;
          out.push({ k: fl ? L_XMM : L_GPR, r, lo: 0, hi: 0 });
          continue;
        }
      }
      out.push({ k: -1, r: 0, lo: 0, hi: 0 });
    }
    // The rest: free registers first, then any not taken, then the canonical slot.
    for (let j = 0; j < n; j++) {
      if (out[j]!.k !== -1) continue;
      const t = types[j]!;
      const fl = isFloat(t);
      const pool = fl ? SCRATCH_XMMS : SCRATCH_GPRS;
      const owner = fl ? st.xmmOwner : st.gprOwner;
      let pick = -1;
      for (const r of pool) if (((fl ? takenX : takenG) & (1 << r)) === 0 && owner[r] === -1) { pick = r; break; }
      if (pick < 0) for (const r of pool) if (((fl ? takenX : takenG) & (1 << r)) === 0) { pick = r; break; }
      if (pick >= 0) {
        if (fl) takenX |= 1 << pick; else takenG |= 1 << pick;
        out[j] = { k: fl ? L_XMM : L_GPR, r: pick, lo: 0, hi: 0 };
      } else {
        out[j] = { k: L_MEM, r: st.slotDisp(base + j), lo: 0, hi: 0 };
      }
    }
    return out;
  }

  /** Moves the top values to the frame's merge locations (choosing them if this is the first branch). */
  private mergeMoves(f: Frame): void {
    const st = this.st;
    const types = this.arity(f);
    if (f.merge === null) f.merge = this.chooseMerge(types, f.base);
    const n = types.length;
    const moves: Move[] = [];
    for (let j = 0; j < n; j++) {
      const i = st.sp - n + j;
      if (st.kind[i] === K_FLAGS) this.materializeFlags(i);
      moves.push({ t: types[j]!, dst: f.merge[j]!, src: st.loc(i) });
    }
    parallelMove(st, moves);
  }

  /** True when the top values already sit in f's merge locations (or f has none chosen yet and can take them). */
  private mergeIsFree(f: Frame): boolean {
    const st = this.st;
    const types = this.arity(f);
    const n = types.length;
    if (n === 0) return true;
    if (f.merge === null) {
      for (let j = 0; j < n; j++) if (st.kind[st.sp - n + j] !== K_REG) return false;
      f.merge = this.chooseMerge(types, f.base);
    }
    for (let j = 0; j < n; j++) {
      const i = st.sp - n + j;
      const l = f.merge[j]!;
      if (st.kind[i] === K_REG) {
        if ((l.k === L_GPR || l.k === L_XMM) && l.r === st.reg[i]) continue;
        return false;
      }
      if (st.kind[i] === K_SLOT && l.k === L_MEM && l.r === st.slotDisp(i)) continue;
      return false;
    }
    return true;
  }

  private frameAt(depth: number): Frame {
    const f = this.frames[this.frames.length - 1 - depth];
    if (f === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: branch depth ${depth} out of range`);
    return f;
  }

  /** Unconditional branch to the frame `depth` levels out. */
  private branch(depth: number): void {
    const f = this.frameAt(depth);
    this.flushCount();
    this.mergeMoves(f);
    f.branched = true;
    this.w.branch("jmp", f.label);
  }

  private enterFrame(kind: number, sig: { params: readonly ValType[]; results: readonly ValType[] }): Frame {
    const st = this.st;
    const base = st.sp - sig.params.length;
    st.cleanBelow(base);
    const f: Frame = {
      kind, params: sig.params, results: sig.results, base, label: this.w.newLabel(), elseLabel: -1,
      merge: null, branched: false, snap: null,
    };
    this.frames.push(f);
    return f;
  }

  /** Sets the stack above f.base to the merge locations (after a label reached only by branches). */
  private takeMergeState(f: Frame, types: readonly ValType[]): void {
    const st = this.st;
    st.truncate(f.base);
    // Every scratch register is free at a label except the merge registers.
    for (let j = 0; j < types.length; j++) {
      const l = f.merge![j]!;
      if (l.k === L_MEM) st.pushSlot(types[j]!);
      else st.pushReg(types[j]!, l.r);
    }
  }

  /** Rebinds the entries above f.base to the merge locations after fallthrough moves. */
  private adoptMerge(f: Frame, types: readonly ValType[]): void {
    this.st.truncate(f.base);
    this.takeMergeState(f, types);
  }

  private snapshot(f: Frame): void {
    const st = this.st;
    const snap = { kind: [] as number[], reg: [] as number[], lo: [] as number[], hi: [] as number[] };
    for (let i = f.base; i < st.sp; i++) {
      snap.kind.push(st.kind[i]!); snap.reg.push(st.reg[i]!); snap.lo.push(st.lo[i]!); snap.hi.push(st.hi[i]!);
    }
    f.snap = snap;
  }

  private restoreSnapshot(f: Frame): void {
    const st = this.st;
    st.truncate(f.base);
    const s = f.snap!;
    for (let j = 0; j < s.kind.length; j++) {
      const t = f.params[j]!;
      switch (s.kind[j]) {
        case K_CONST: st.pushConst(t, s.lo[j]!, s.hi[j]!); break;
        case K_REG: st.pushReg(t, s.reg[j]!); break;
        case K_LOCAL: st.pushLocal(s.lo[j]!); break;
        default: st.pushSlot(t); break;
      }
    }
  }

  private opBlock(op: IOperatorInformation, kind: number): void {
    const sig = this.blockSig(op);
    const st = this.st;
    if (kind === F_LOOP) {
      const f = this.enterFrame(F_LOOP, sig);
      // The loop head fixes where its parameters live.
      const n = sig.params.length;
      for (let j = 0; j < n; j++) if (st.kind[st.sp - n + j] === K_FLAGS) this.materializeFlags(st.sp - n + j);
      f.merge = this.chooseMerge(sig.params, f.base);
      this.mergeMoves(f);
      this.adoptMerge(f, sig.params);
      this.bindLabel(f.label);
      return;
    }
    if (kind === F_IF) {
      // The condition is on top of the parameters.
      const condIdx = st.sp - 1;
      const base = condIdx - sig.params.length;
      st.cleanBelow(base);
      this.flushCount();
      const cc = this.popCondition();
      const f = this.enterFrame(F_IF, sig);
      f.elseLabel = this.w.newLabel();
      this.snapshot(f);
      this.jumpIfNot(cc, f.elseLabel);
      return;
    }
    this.enterFrame(F_BLOCK, sig);
  }

  private opElse(): void {
    const f = this.frames[this.frames.length - 1]!;
    if (f.kind !== F_IF || f.elseLabel < 0) throw new WasmCompileError("invalid", `function ${this.funcIndex}: else without if`);
    if (!this.unreachable) {
      this.flushCount();
      this.mergeMoves(f);
      f.branched = true;
      this.w.branch("jmp", f.label);
    }
    this.w.bind(f.elseLabel);
    f.elseLabel = -1;
    this.restoreSnapshot(f);
    this.unreachable = false;
  }

  private opEnd(): void {
    const f = this.frames.pop()!;
    const st = this.st;
    if (f.kind === F_IF && f.elseLabel >= 0) {
      // No else arm: the false path carries the parameters through as results.
      if (!this.unreachable) {
        this.flushCount();
        this.mergeMoves(f);
        f.branched = true;
        this.w.branch("jmp", f.label);
      }
      this.w.bind(f.elseLabel);
      this.restoreSnapshot(f);
      this.unreachable = false;
      this.pendingOps = 1; // the end on the false path
    }
    if (f.kind === F_FUNC) {
      if (!this.unreachable) {
        this.flushCount();
        this.mergeMoves(f);
      }
      st.truncate(0);
      return;
    }
    if (f.kind === F_LOOP) {
      // Only fallthrough reaches a loop's end: the stack stays as it is.
      return;
    }
    if (!this.unreachable) {
      this.flushCount();
      if (f.branched) {
        this.mergeMoves(f);
        this.adoptMerge(f, f.results);
      }
      this.w.bind(f.label);
      return;
    }
    if (f.branched) {
      this.w.bind(f.label);
      this.takeMergeState(f, f.results);
      this.unreachable = false;
    } else {
      st.truncate(f.base);
    }
  }

  private opBr(depth: number): void {
    this.branch(depth);
    this.setUnreachable();
  }

  private opBrIf(depth: number): void {
    const f = this.frameAt(depth);
    this.flushCount();
    // The condition is on top; the moves below it use mov only, which leaves the flags alone.
    const cc = this.popCondition();
    f.branched = true;
    if (cc === -1) return;
    if (this.mergeIsFree(f)) {
      this.jumpIf(cc, f.label);
      return;
    }
    const skip = this.w.newLabel();
    this.jumpIfNot(cc, skip);
    this.mergeMoves(f);
    this.w.branch("jmp", f.label);
    this.w.bind(skip);
  }

  private opBrTable(targets: number[]): void {
    const st = this.st;
    const w = this.w;
    this.flushCount();
    const defaultDepth = targets[targets.length - 1]!;
    const n = targets.length - 1;
    const idx = st.sp - 1;
    if (st.kind[idx] === K_CONST || n === 0) {
      const v = st.lo[idx]! >>> 0;
      st.drop(1);
      this.branch(v < n ? targets[v]! : defaultDepth);
      this.setUnreachable();
      return;
    }
    // Index into a register we may clobber.
    const r = st.toReg(idx);
    st.drop(1);
    st.gprOwner[r] = -2; // reserved until the jump
    // Per distinct target: the label jumped to (the target itself when no moves are needed, else a stub).
    const entryLabel = new Map<number, number>();
    const stubs: number[] = [];
    for (const d of new Set(targets)) {
      const f = this.frameAt(d);
      f.branched = true;
      if (this.mergeIsFree(f)) entryLabel.set(d, f.label);
      else { const l = w.newLabel(); entryLabel.set(d, l); stubs.push(d); }
    }
    const table = w.newLabel();
    w.op("cmp", w.R(4, r), w.I(4, n));
    w.branch("jae", entryLabel.get(defaultDepth)!);
    w.op("lea", w.R(8, R11), w.ML(0, table));
    w.op("movsxd", w.R(8, r), w.M(4, R11, r, 2, 0));
    w.op("add", w.R(8, r), w.R(8, R11));
    w.op("jmp", w.R(8, r));
    st.gprOwner[r] = -1;
    for (const d of stubs) {
      w.bind(entryLabel.get(d)!);
      const f = this.frameAt(d);
      this.mergeMoves(f);
      w.branch("jmp", f.label);
    }
    w.alignCode(4);
    w.bind(table);
    for (let k = 0; k < n; k++) w.dataLabelDiff(entryLabel.get(targets[k]!)!, table);
    this.setUnreachable();
  }

  private opReturn(): void {
    this.branch(this.frames.length - 1);
    this.setUnreachable();
  }

  setUnreachable(): void {
    this.unreachable = true;
    this.deadDepth = 0;
  }

  /** Operators in unreachable code: only the block structure matters. */
  private dead(op: IOperatorInformation): void {
    switch (op.code) {
      case OP.block: case OP.loop: case OP.if:
        this.deadDepth++;
        return;
      case OP.else:
        if (this.deadDepth === 0) this.opElse();
        return;
      case OP.end:
        if (this.deadDepth > 0) { this.deadDepth--; return; }
        this.opEnd();
        return;
      default:
        return;
    }
  }

  // =====================================================================
  // Calls
  // =====================================================================

  /** Arguments (top params.length entries) into ABI places, then the call; results pushed. */
  private emitCall(ft: FuncType, target: { symbol: string } | { reg: number }): void {
    const st = this.st;
    const w = this.w;
    const layout: CallLayout = callLayout(ft.params, ft.results);
    const n = ft.params.length;
    const argBase = st.sp - n;
    for (let j = 0; j < n; j++) if (st.kind[argBase + j] === K_FLAGS) this.materializeFlags(argBase + j);
    st.spillAllBelow(argBase);
    this.flushCount();
    // Stack area: padding/result slots first, then stack parameters pushed last-first.
    const extra = layout.areaSlots - layout.stackParams;
    if (extra > 0) w.op("sub", w.R(8, RSP), w.I(8, 8 * extra));
    for (let j = n - 1; j >= 0; j--) {
      const a = layout.params[j]!;
      if (a.slot < 0) continue;
      this.pushArg(argBase + j);
    }
    const moves: Move[] = [];
    for (let j = 0; j < n; j++) {
      const a = layout.params[j]!;
      if (a.reg < 0) continue;
      const t = ft.params[j]!;
      moves.push({ t, dst: { k: isFloat(t) ? L_XMM : L_GPR, r: a.reg, lo: 0, hi: 0 }, src: st.loc(argBase + j) });
    }
    parallelMove(st, moves);
    st.drop(n);
    if ("symbol" in target) w.branchSym("call", target.symbol);
    else w.op("call", w.R(8, target.reg));
    // Results.
    for (let k = 0; k < ft.results.length; k++) {
      const a = layout.results[k]!;
      const t = ft.results[k]!;
      if (a.reg >= 0) st.pushReg(t, a.reg);
      else st.pushSlot(t);
    }
    // Stack results: copy from the area into the result entries' slots before releasing the area.
    for (let k = 0; k < ft.results.length; k++) {
      const a = layout.results[k]!;
      if (a.reg >= 0) continue;
      const i = st.sp - ft.results.length + k;
      const t = ft.results[k]!;
      const s = sizeOf(t);
      w.op("mov", w.R(s, R11), w.M(s, RSP, NONE, 0, 8 * a.slot));
      w.op("mov", w.M(s, RBP, NONE, 0, st.slotDisp(i)), w.R(s, R11));
    }
    if (layout.areaSlots > 0) w.op("add", w.R(8, RSP), w.I(8, 8 * layout.areaSlots));
  }

  /** Pushes one stack argument (8 bytes) from wherever it is. */
  private pushArg(i: number): void {
    const st = this.st;
    const w = this.w;
    const t = st.type(i);
    switch (st.kind[i]) {
      case K_CONST: {
        const lo = st.lo[i]!, hi = sizeOf(t) === 8 ? st.hi[i]! : 0;
        if (hi === (lo >> 31)) { w.op("push", w.I(8, lo, hi)); return; }
        w.op("push", w.I(8, lo));
        w.op("mov", w.M(4, RSP, NONE, 0, 4), w.I(4, hi));
        return;
      }
      case K_REG:
        if (isFloat(t)) {
          w.op("sub", w.R(8, RSP), w.I(8, 8));
          w.op(t === F32 ? "movss" : "movsd", w.M(sizeOf(t), RSP, NONE, 0, 0), w.X(st.reg[i]!));
        } else {
          w.op("push", w.R(8, st.reg[i]!));
        }
        return;
      default: {
        const l = st.loc(i);
        if (l.k === L_GPR) w.op("push", w.R(8, l.r));
        else w.op("push", w.M(8, RBP, NONE, 0, l.r));
      }
    }
  }

  private opCall(funcIndex: number): void {
    const m = this.mc.m;
    const f = m.funcs[funcIndex];
    if (f === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: call to unknown function ${funcIndex}`);
    const intr = this.mc.intrinsic(funcIndex);
    if (intr !== null) { intr.emit(this); return; }
    this.emitCall(f.type, { symbol: this.mc.sym.func(funcIndex) });
  }

  private opCallIndirect(typeIndex: number, tableIndex: number): void {
    const st = this.st;
    const w = this.w;
    const ft = this.mc.m.types[typeIndex];
    if (ft === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: call_indirect with unknown type ${typeIndex}`);
    if (this.mc.m.tables[tableIndex] === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: call_indirect without a table`);
    const tsym = this.mc.sym.table(tableIndex);
    // Look the entry up before the arguments move: the target stays in R11 (argument moves never use it).
    const idx = st.sp - 1;
    st.spillAllBelow(idx - ft.params.length);
    const r = st.toReg(idx);
    const offset = this.opOffset;
    w.op("cmp", w.R(4, r), w.MS(4, tsym, TABLE_SIZE));
    w.branch("jae", this.trapLabel(TRAP_UNDEFINED_ELEMENT));
    w.op("shl", w.R(8, r), w.U8(4));
    w.op("lea", w.R(8, R11), w.MS(0, tsym, TABLE_HEADER));
    w.op("add", w.R(8, R11), w.R(8, r));
    w.op("cmp", w.M(4, R11, NONE, 0, ENTRY_SIG), w.I(4, 0x12345678));
    w.relocs.push({ offset: w.len - 4, kind: "abs32", symbol: this.mc.sigSymbol(ft), addend: 0 });
    const bad = this.outOfLineCode(() => {
      w.op("cmp", w.M(8, R11, NONE, 0, ENTRY_CODE), w.I(8, 0));
      w.branch("je", this.trapLabel(TRAP_UNINITIALIZED_ELEMENT, offset));
      w.branch("jmp", this.trapLabel(TRAP_INDIRECT_CALL_TYPE_MISMATCH, offset));
    });
    w.branch("jne", bad);
    w.op("mov", w.R(8, R11), w.M(8, R11, NONE, 0, ENTRY_CODE));
    st.drop(1);
    this.emitCall(ft, { reg: R11 });
  }

  // =====================================================================
  // Intrinsic support (IntrinsicHost)
  // =====================================================================

  argsToGprs(regs: readonly number[], clobbers: readonly number[] = []): void {
    const st = this.st;
    const n = regs.length;
    const base = st.sp - n;
    for (let j = 0; j < n; j++) if (st.kind[base + j] === K_FLAGS) this.materializeFlags(base + j);
    // Evict unrelated holders of the argument and clobbered registers, then place the arguments with one parallel move.
    let targets = 0;
    for (const r of regs) targets |= 1 << r;
    for (const r of clobbers) targets |= 1 << r;
    for (const r of [...regs, ...clobbers]) {
      const o = st.gprOwner[r]!;
      if (o >= 0 && o < base) st.evictGpr(r, targets);
    }
    const moves: Move[] = [];
    for (let j = 0; j < n; j++) {
      const t = st.type(base + j);
      moves.push({ t, dst: { k: L_GPR, r: regs[j]!, lo: 0, hi: 0 }, src: st.loc(base + j) });
    }
    parallelMove(st, moves);
    st.drop(n);
    // The argument registers are the intrinsic's until it pushes results.
  }

  spillAll(): void {
    this.st.spillAllBelow(this.st.sp);
  }

  pushGprResult(t: number, reg: number): void {
    const st = this.st;
    if (st.gprOwner[reg]! >= 0) st.evictGpr(reg);
    st.pushReg(t as ValType, reg);
  }

  wasmAddressToR11(): void {
    const st = this.st;
    const w = this.w;
    const i = st.sp - 1;
    w.op("mov", w.R(4, R11), st.intSrc(i, 4));
    if (this.memoryModel !== "user") w.op("add", w.R(8, R11), w.R(8, MEMORY_BASE_REG));
    st.drop(1);
  }

  // =====================================================================
  // Locals and globals
  // =====================================================================

  private opLocalSet(k: number, tee: boolean): void {
    const st = this.st;
    if (k >= st.localType.length) throw new WasmCompileError("invalid", `function ${this.funcIndex}: unknown local ${k}`);
    const i = st.sp - 1;
    if (st.kind[i] === K_FLAGS) this.materializeFlags(i);
    if (st.kind[i] === K_LOCAL && st.lo[i] === k) {
      if (!tee) st.drop(1);
      return;
    }
    st.detachLocal(k);
    const t = st.localType[k]!;
    const lr = st.localReg[k]!;
    const src = st.loc(i);
    if (lr >= 0) st.move(t, { k: L_GPR, r: lr, lo: 0, hi: 0 }, src);
    else st.storeToMem(st.localDisp[k]!, t, src);
    st.drop(1);
    if (tee) st.pushLocal(k);
  }

  private opGlobalGet(g: number): void {
    const st = this.st;
    const w = this.w;
    const decl = this.mc.m.globals[g];
    if (decl === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: unknown global ${g}`);
    const t = decl.type;
    const s = sizeOf(t);
    const r = st.allocFor(t);
    if (isFloat(t)) w.op(t === F32 ? "movss" : "movsd", w.X(r), w.MS(s, this.mc.sym.global(g)));
    else w.op("mov", w.R(s, r), w.MS(s, this.mc.sym.global(g)));
    st.pushReg(t, r);
  }

  private opGlobalSet(g: number): void {
    const st = this.st;
    const w = this.w;
    const decl = this.mc.m.globals[g];
    if (decl === undefined) throw new WasmCompileError("invalid", `function ${this.funcIndex}: unknown global ${g}`);
    const t = decl.type;
    const s = sizeOf(t);
    const i = st.sp - 1;
    if (st.kind[i] === K_FLAGS) this.materializeFlags(i);
    const symbol = this.mc.sym.global(g);
    if (isFloat(t)) {
      if (st.kind[i] === K_CONST) {
        w.op("mov", w.MS(4, symbol), w.I(4, st.lo[i]!));
        if (t === F64) w.op("mov", w.MS(4, symbol, 4), w.I(4, st.hi[i]!));
      } else {
        const x = st.floatInXmm(i);
        w.op(t === F32 ? "movss" : "movsd", w.MS(s, symbol), w.X(x));
      }
    } else if (st.kind[i] === K_CONST && (s === 4 || st.hi[i] === (st.lo[i]! >> 31))) {
      w.op("mov", w.MS(s, symbol), w.I(s, st.lo[i]!, st.hi[i]!));
    } else {
      let r = st.gprOf(i);
      if (r < 0) { w.op("mov", w.R(s, R11), st.intSrc(i, s)); r = R11; }
      w.op("mov", w.MS(s, symbol), w.R(s, r));
    }
    st.drop(1);
  }

  // =====================================================================
  // select, drop
  // =====================================================================

  private opSelect(): void {
    const st = this.st;
    const w = this.w;
    const ci = st.sp - 1;
    const bi = st.sp - 2;
    const ai = st.sp - 3;
    const t = st.type(ai);
    let cc: number;
    if (st.kind[ci] === K_FLAGS && st.lo[ci]! < 16) {
      cc = st.lo[ci]!;
      st.drop(1);
    } else {
      if (st.kind[ci] === K_FLAGS) this.materializeFlags(ci);
      if (st.kind[ci] === K_CONST) {
        const keep = st.lo[ci] !== 0;
        st.drop(1);
        if (keep) st.drop(1);
        else this.collapseTopInto(ai);
        return;
      }
      // Materialise a and b first (moves only), then test the condition last.
      st.toReg(ai);
      if (isFloat(t)) st.toReg(bi);
      const r = st.gprOf(ci);
      if (r >= 0) w.op("test", w.R(4, r), w.R(4, r));
      else w.op("cmp", st.intSrc(ci, 4), w.I(4, 0));
      st.drop(1);
      cc = CC_NE;
    }
    // a (kept when cc holds) must own a register; b replaces it otherwise.
    const ra = st.toReg(ai);
    if (isFloat(t)) {
      const rb = st.toReg(bi, 1 << ra);
      const skip = w.newLabel();
      w.branch(`j${CC_NAMES[cc]}`, skip, true);
      w.op("movaps", w.X(ra), w.X(rb));
      w.bind(skip);
    } else {
      const s = sizeOf(t);
      const src = st.kind[bi] === K_CONST ? this.constToR11(bi, s) : st.intSrc(bi, s);
      w.op(`cmov${CC_NAMES[invertCC(cc)]}`, w.R(s === 4 ? 4 : 8, ra), src);
    }
    st.drop(1);
  }

  private constToR11(i: number, s: number): number {
    const w = this.w;
    const st = this.st;
    w.op("mov", w.R(s, R11), w.I(s, st.lo[i]!, st.hi[i]!));
    return w.R(s, R11);
  }

  /** Makes the top entry's value the value of entry `dst` (below it), dropping everything between. */
  private collapseTopInto(dst: number): void {
    const st = this.st;
    const top = st.sp - 1;
    const t = st.type(top);
    if (st.kind[top] === K_CONST) {
      const lo = st.lo[top]!, hi = st.hi[top]!;
      st.truncate(dst);
      st.pushConst(t, lo, hi);
      return;
    }
    if (st.kind[top] === K_LOCAL) {
      const k = st.lo[top]!;
      st.truncate(dst);
      st.pushLocal(k);
      return;
    }
    const r = st.toReg(top);
    // Detach r from the top entry so truncating does not free it, then re-own it at dst.
    st.kind[top] = K_SLOT;
    st.truncate(dst);
    st.pushReg(t, r);
  }

  // =====================================================================
  // Dispatch
  // =====================================================================

  private dispatch(op: IOperatorInformation): void {
    const st = this.st;
    const code = op.code;
    // A pending comparison survives only into its direct consumers.
    if (st.sp > 0 && st.kind[st.sp - 1] === K_FLAGS && code !== OP.br_if && code !== OP.if && code !== OP.select
      && code !== OP.select_t && code !== OP.i32_eqz && code !== OP.drop) {
      this.materializeFlags(st.sp - 1);
    }
    switch (code) {
      case OP.unreachable:
        this.flushCount();
        this.w.branch("jmp", this.trapLabel(TRAP_UNREACHABLE));
        this.setUnreachable();
        return;
      case OP.nop: return;
      case OP.block: this.opBlock(op, F_BLOCK); return;
      case OP.loop: this.opBlock(op, F_LOOP); return;
      case OP.if: this.opBlock(op, F_IF); return;
      case OP.else: this.opElse(); return;
      case OP.end: this.opEnd(); return;
      case OP.br: this.opBr(op.brDepth!); return;
      case OP.br_if: this.opBrIf(op.brDepth!); return;
      case OP.br_table: this.opBrTable(op.brTable!); return;
      case OP.return: this.opReturn(); return;
      case OP.call: this.opCall(op.funcIndex!); return;
      case OP.call_indirect: this.opCallIndirect(op.typeIndex!, op.tableIndex ?? 0); return;
      case OP.drop: st.drop(1); return;
      case OP.select: case OP.select_t: this.opSelect(); return;
      case OP.local_get: {
        const k = op.localIndex!;
        if (k >= st.localType.length) throw new WasmCompileError("invalid", `function ${this.funcIndex}: unknown local ${k}`);
        st.pushLocal(k);
        return;
      }
      case OP.local_set: this.opLocalSet(op.localIndex!, false); return;
      case OP.local_tee: this.opLocalSet(op.localIndex!, true); return;
      case OP.global_get: this.opGlobalGet(op.globalIndex!); return;
      case OP.global_set: this.opGlobalSet(op.globalIndex!); return;
      case OP.i32_const: st.pushConst(I32, op.literal as number, 0); return;
      case OP.i64_const: { const h = int64Halves(op.literal as Int64); st.pushConst(I64, h.lo, h.hi); return; }
      case OP.f32_const: { const b = literalBits(this.reader, 4); st.pushConst(F32, b.lo, 0); return; }
      case OP.f64_const: { const b = literalBits(this.reader, 8); st.pushConst(F64, b.lo, b.hi); return; }
      default:
        if (emitMemoryOp(this, op)) return;
        if (emitNumericOp(this, code)) return;
        throw new WasmCompileError("unsupported",
          `function ${this.funcIndex} at ${hexOffset(this.opOffset)}: operator 0x${code.toString(16)} is outside capos's wasm feature set`);
    }
  }
}


function abiLoc(a: { reg: number; slot: number }, t: ValType): Loc {
  if (a.reg >= 0) return { k: isFloat(t) ? L_XMM : L_GPR, r: a.reg, lo: 0, hi: 0 };
  return { k: L_MEM, r: 16 + 8 * a.slot, lo: 0, hi: 0 };
}
