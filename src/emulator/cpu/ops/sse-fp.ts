// Instruction family "sse-fp" (rows and semantics are added by its owner).
import { defineRows } from "../table.js";

defineRows("sse-fp", []);
