# fixture.capnp — a test-only schema that exercises every construct the
# guest code generator supports (tests/capnp*.test.ts). Not part of capos's ABI.
@0xb1b522b19fbd3641;

enum Color {
  red @0;
  green @1;
  blue @2;
}

# Every primitive field type.
struct Scalars {
  flag @0 :Bool;
  i8 @1 :Int8;
  i16 @2 :Int16;
  i32 @3 :Int32;
  i64 @4 :Int64;
  u8 @5 :UInt8;
  u16 @6 :UInt16;
  u32 @7 :UInt32;
  u64 @8 :UInt64;
  f32 @9 :Float32;
  f64 @10 :Float64;
  color @11 :Color;
  nothing @12 :Void;
  flag2 @13 :Bool;
}

struct Inner {
  id @0 :UInt32;
  label @1 :Text;
}

# A field of every kind with an explicit default.
struct Defaults {
  flag @0 :Bool = true;
  i8 @1 :Int8 = -7;
  i16 @2 :Int16 = -1234;
  i32 @3 :Int32 = -123456;
  i64 @4 :Int64 = -1234567890123;
  u8 @5 :UInt8 = 200;
  u16 @6 :UInt16 = 60000;
  u32 @7 :UInt32 = 4000000000;
  u64 @8 :UInt64 = 0xfedcba9876543210;
  f32 @9 :Float32 = 1.5;
  f64 @10 :Float64 = -2.25;
  color @11 :Color = blue;
  text @12 :Text = "défaut";
  data @13 :Data = 0x"01 02 03";
  inner @14 :Inner = (id = 7, label = "seven");
  numbers @15 :List(UInt16) = [1, 2, 3];
  names @16 :List(Text) = ["a", "bc"];
}

# A list of every element kind.
struct Lists {
  voids @0 :List(Void);
  bools @1 :List(Bool);
  i8s @2 :List(Int8);
  i16s @3 :List(Int16);
  i32s @4 :List(Int32);
  i64s @5 :List(Int64);
  u8s @6 :List(UInt8);
  u16s @7 :List(UInt16);
  u32s @8 :List(UInt32);
  u64s @9 :List(UInt64);
  f32s @10 :List(Float32);
  f64s @11 :List(Float64);
  colors @12 :List(Color);
  texts @13 :List(Text);
  blobs @14 :List(Data);
  inners @15 :List(Inner);
  matrix @16 :List(List(UInt32));
  sentences @17 :List(List(Text));
}

# Unnamed and named unions, groups, and a group inside a union.
struct Unions {
  common @0 :UInt32;
  union {
    none @1 :Void;
    number @2 :Int32;
    text @3 :Text;
    inner @4 :Inner;
    pair :group {
      left @5 :UInt32;
      right @6 :Text;
    }
  }
  choice :union {
    small @7 :UInt8;
    flag @8 :Bool;
  }
  settings :group {
    level @9 :UInt16;
    detail :group {
      note @10 :Text;
    }
  }
}

# Recursion through a struct list.
struct Tree {
  value @0 :Int64;
  children @1 :List(Tree);
}

# Names that are reserved words in AssemblyScript.
struct Keywords {
  type @0 :UInt8;
  export @1 :Text;
  kind :union {
    class @2 :Void;
    new @3 :UInt16;
  }
}

enum Reserved {
  class @0;
  new @1;
  type @2;
}

const answer :UInt32 = 42;
const greeting :Text = "hello";
const blob :Data = 0x"ca fe";
const ratio :Float64 = 3.25;
const origin :Inner = (id = 1, label = "origin");

interface Calculator {
  add @0 (a :Int32, b :Int32) -> (sum :Int32);
  reset @1 () -> ();
}
