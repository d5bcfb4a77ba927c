// The privileged instructions the kernel uses: imports of the `cpu` module, which the
// wasm→x86-64 compiler emits inline (src/toolchain/wasm/intrinsics.ts has the table).
// Declarations only; pure-logic modules never import this file (their tests run in V8).

// Port I/O.
// @ts-ignore: decorator
@external("cpu", "inb") export declare function inb(port: i32): i32;
// @ts-ignore: decorator
@external("cpu", "outb") export declare function outb(port: i32, value: i32): void;

// Model-specific registers.
// @ts-ignore: decorator
@external("cpu", "rdmsr") export declare function rdmsr(msr: i32): i64;
// @ts-ignore: decorator
@external("cpu", "wrmsr") export declare function wrmsr(msr: i32, value: i64): void;

// Control registers.
// @ts-ignore: decorator
@external("cpu", "readCr2") export declare function readCr2(): i64;
// @ts-ignore: decorator
@external("cpu", "readCr3") export declare function readCr3(): i64;
// @ts-ignore: decorator
@external("cpu", "writeCr3") export declare function writeCr3(value: i64): void;
// @ts-ignore: decorator
@external("cpu", "readCr4") export declare function readCr4(): i64;
// @ts-ignore: decorator
@external("cpu", "writeCr4") export declare function writeCr4(value: i64): void;

// Interrupts and the processor's idle state.
// @ts-ignore: decorator
@external("cpu", "hlt") export declare function hlt(): void;
// @ts-ignore: decorator
@external("cpu", "cli") export declare function cli(): void;

// Descriptor tables: the argument is the kernel (physical) address of a 10-byte pseudo-descriptor.
// @ts-ignore: decorator
@external("cpu", "lgdt") export declare function lgdt(pseudoDescriptor: usize): void;
// @ts-ignore: decorator
@external("cpu", "lidt") export declare function lidt(pseudoDescriptor: usize): void;
// @ts-ignore: decorator
@external("cpu", "ltr") export declare function ltr(selector: i32): void;

// Identification.
// @ts-ignore: decorator
@external("cpu", "cpuidEbx") export declare function cpuidEbx(leaf: i32, subleaf: i32): i32;

// Reading memory by virtual address (the kernel's image and stacks are not wasm memory).
// @ts-ignore: decorator
@external("cpu", "peek64") export declare function peek64(va: i64): i64;
// @ts-ignore: decorator
@external("cpu", "cpuidEax") export declare function cpuidEax(leaf: i32, subleaf: i32): i32;
