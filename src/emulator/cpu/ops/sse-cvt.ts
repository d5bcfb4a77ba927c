// Instruction family "sse-cvt" (rows and semantics are added by its owner).
import { defineRows } from "../table.js";

defineRows("sse-cvt", []);
