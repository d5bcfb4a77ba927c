// Instruction family "system" (rows and semantics are added by its owner).
import { defineRows } from "../table.js";

defineRows("system", []);
