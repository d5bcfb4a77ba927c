// A small interpreter: a stack machine with a dozen opcodes dispatched by a
// switch (a br_table), running a loop that sums the Collatz sequence lengths
// of the first n numbers.

const PUSH: u8 = 0, LOAD: u8 = 1, STORE: u8 = 2, ADD: u8 = 3, SUB: u8 = 4, MUL: u8 = 5;
const JZ: u8 = 6, JMP: u8 = 7, LT: u8 = 8, AND: u8 = 9, SHR: u8 = 10, HALT: u8 = 11, DUP: u8 = 12;

const CODE: usize = memory.data(256);
const STACK: usize = memory.data(256 * 4);
const VARS: usize = memory.data(16 * 4);

let codeLen: i32 = 0;
function emit(op: u8, arg: i32 = 0): void {
  store<u8>(CODE + <usize>codeLen, op);
  store<i32>(CODE + <usize>codeLen + 1, arg);
  codeLen += 5;
}

function patch(at: i32, target: i32): void {
  store<i32>(CODE + <usize>at + 1, target);
}

/**
 * The interpreted program (vars: 0 = i, 1 = n, 2 = x, 3 = total):
 *   for (i = 1; i < n; i++) for (x = i; 1 < x; total++) x = x & 1 ? 3x + 1 : x >> 1;
 */
function assemble(): void {
  codeLen = 0;
  emit(PUSH, 1); emit(STORE, 0);
  const top = codeLen;
  emit(LOAD, 0); emit(LOAD, 1); emit(LT);
  const toExit = codeLen; emit(JZ);
  emit(LOAD, 0); emit(STORE, 2);
  const inner = codeLen;
  emit(PUSH, 1); emit(LOAD, 2); emit(LT);
  const toNext = codeLen; emit(JZ);
  emit(LOAD, 3); emit(PUSH, 1); emit(ADD); emit(STORE, 3);
  emit(LOAD, 2); emit(PUSH, 1); emit(AND);
  const toEven = codeLen; emit(JZ);
  emit(LOAD, 2); emit(PUSH, 3); emit(MUL); emit(PUSH, 1); emit(ADD); emit(STORE, 2);
  emit(JMP, inner);
  patch(toEven, codeLen);
  emit(LOAD, 2); emit(PUSH, 1); emit(SHR); emit(STORE, 2);
  emit(JMP, inner);
  patch(toNext, codeLen);
  emit(LOAD, 0); emit(PUSH, 1); emit(ADD); emit(STORE, 0);
  emit(JMP, top);
  patch(toExit, codeLen);
  emit(HALT);
}

function execute(): i32 {
  let pc: i32 = 0;
  let sp: i32 = 0;
  while (true) {
    const op = load<u8>(CODE + <usize>pc);
    const arg = load<i32>(CODE + <usize>pc + 1);
    pc += 5;
    switch (op) {
      case PUSH: store<i32>(STACK + <usize>(sp << 2), arg); sp++; break;
      case LOAD: store<i32>(STACK + <usize>(sp << 2), load<i32>(VARS + <usize>(arg << 2))); sp++; break;
      case STORE: sp--; store<i32>(VARS + <usize>(arg << 2), load<i32>(STACK + <usize>(sp << 2))); break;
      case ADD: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), load<i32>(STACK + <usize>((sp - 1) << 2)) + b); break; }
      case SUB: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), load<i32>(STACK + <usize>((sp - 1) << 2)) - b); break; }
      case MUL: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), load<i32>(STACK + <usize>((sp - 1) << 2)) * b); break; }
      case AND: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), load<i32>(STACK + <usize>((sp - 1) << 2)) & b); break; }
      case SHR: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), load<i32>(STACK + <usize>((sp - 1) << 2)) >>> b); break; }
      case LT: { sp--; const b = load<i32>(STACK + <usize>(sp << 2)); store<i32>(STACK + <usize>((sp - 1) << 2), i32(load<i32>(STACK + <usize>((sp - 1) << 2)) < b)); break; }
      case DUP: store<i32>(STACK + <usize>(sp << 2), load<i32>(STACK + <usize>((sp - 1) << 2))); sp++; break;
      case JZ: sp--; if (load<i32>(STACK + <usize>(sp << 2)) == 0) pc = arg; break;
      case JMP: pc = arg; break;
      default: return load<i32>(VARS + 12);
    }
  }
}

export function run(n: i32): i32 {
  assemble();
  store<i32>(VARS + 4, n);
  store<i32>(VARS + 12, 0);
  return execute();
}
