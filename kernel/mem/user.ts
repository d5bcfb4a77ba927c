// User memory as the kernel may touch it: walk the process's page tables, require present +
// user (+ writable) at every level, copy through the physical address. It never dereferences a
// user address and never accepts one at or above USER_LIMIT, so it cannot reach kernel memory.
import { USER_LIMIT, PAGE_SIZE } from "../abi";

const PTE_PRESENT: u64 = 1;
const PTE_WRITABLE: u64 = 2;
const PTE_USER: u64 = 4;
const PTE_LARGE: u64 = 0x80;
const PTE_ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;
/** Kernel pointers are 32-bit: physical memory at or above 4 GiB is out of reach. */
const PHYS_LIMIT: u64 = 0x1_0000_0000;
const PAGE_MASK: u64 = <u64>PAGE_SIZE - 1;

/**
 * The physical address user virtual address `va` maps to in the address
 * space rooted at `root` (the PML4's physical address), or -1 when the page
 * is not present, not user-accessible, not writable although `write` is
 * asked, outside the user half, or backed above 4 GiB.
 */
export function userTranslate(root: usize, va: u64, write: bool): i64 {
  if (va >= USER_LIMIT) return -1;
  let table = <u64>root;
  let shift: u64 = 39;
  for (let level = 4; level >= 1; level--) {
    const entryAddress = table + (((va >> shift) & 511) << 3);
    if (entryAddress + 8 > PHYS_LIMIT) return -1;
    const entry = load<u64>(<usize>entryAddress);
    if ((entry & PTE_PRESENT) == 0 || (entry & PTE_USER) == 0) return -1;
    if (write && (entry & PTE_WRITABLE) == 0) return -1;
    const large = (entry & PTE_LARGE) != 0;
    // PS is reserved in a PML4 entry: the hardware would fault, so do we.
    if (large && level == 4) return -1;
    if (level == 1 || large) {
      const offsetMask: u64 = (<u64>1 << shift) - 1;
      const physical = ((entry & PTE_ADDRESS) & ~offsetMask) | (va & offsetMask);
      return physical < PHYS_LIMIT ? <i64>physical : -1;
    }
    table = entry & PTE_ADDRESS;
    shift -= 9;
  }
  return -1;
}

/**
 * Whether every page of [va, va + length) is mapped user-accessible (and
 * writable when `write`). An empty range is acceptable anywhere; a range that
 * wraps or reaches USER_LIMIT is not.
 */
export function userRangeOk(root: usize, va: u64, length: u64, write: bool): bool {
  if (length == 0) return true;
  const end = va + length;
  if (end < va || end > USER_LIMIT) return false;
  let page = va & ~PAGE_MASK;
  while (page < end) {
    if (userTranslate(root, page, write) < 0) return false;
    page += PAGE_SIZE;
  }
  return true;
}

/**
 * Copies `length` bytes from user address `va` to kernel address `dst`.
 * Validates the whole range first, so a failing copy writes nothing.
 */
export function copyFromUser(root: usize, dst: usize, va: u64, length: u32): bool {
  if (!userRangeOk(root, va, <u64>length, false)) return false;
  let done: u32 = 0;
  while (done < length) {
    const at = va + <u64>done;
    const physical = userTranslate(root, at, false);
    const chunk = min(<u32>(<u64>PAGE_SIZE - (at & PAGE_MASK)), length - done);
    memory.copy(dst + <usize>done, <usize>physical, <usize>chunk);
    done += chunk;
  }
  return true;
}

/**
 * Copies `length` bytes from kernel address `src` to user address `va`,
 * which must be writable user memory throughout. Validates the whole range
 * first, so a failing copy writes nothing.
 */
export function copyToUser(root: usize, va: u64, src: usize, length: u32): bool {
  if (!userRangeOk(root, va, <u64>length, true)) return false;
  let done: u32 = 0;
  while (done < length) {
    const at = va + <u64>done;
    const physical = userTranslate(root, at, true);
    const chunk = min(<u32>(<u64>PAGE_SIZE - (at & PAGE_MASK)), length - done);
    memory.copy(<usize>physical, src + <usize>done, <usize>chunk);
    done += chunk;
  }
  return true;
}
