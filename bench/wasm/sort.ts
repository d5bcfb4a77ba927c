// Sorting: quicksort (recursive, Lomuto partition) and insertion sort for
// short ranges, over an array of pseudo-random 32-bit keys.

const MAX: i32 = 16384;
const DATA: usize = memory.data(MAX * 4);

@inline function at(i: i32): usize { return DATA + (<usize>i << 2); }

function insertion(lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = load<i32>(at(i));
    let j = i - 1;
    while (j >= lo && load<i32>(at(j)) > v) {
      store<i32>(at(j + 1), load<i32>(at(j)));
      j--;
    }
    store<i32>(at(j + 1), v);
  }
}

function quicksort(lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const pivot = load<i32>(at((lo + hi) >> 1));
    let i = lo, j = hi;
    while (i <= j) {
      while (load<i32>(at(i)) < pivot) i++;
      while (load<i32>(at(j)) > pivot) j--;
      if (i <= j) {
        const t = load<i32>(at(i));
        store<i32>(at(i), load<i32>(at(j)));
        store<i32>(at(j), t);
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) { quicksort(lo, j); lo = i; }
    else { quicksort(i, hi); hi = j; }
  }
  insertion(lo, hi);
}

export function run(n: i32): i32 {
  const len = n < MAX ? n : MAX;
  let seed: u32 = 12345;
  for (let i = 0; i < len; i++) {
    seed = seed * 1103515245 + 12345;
    store<i32>(at(i), <i32>(seed >> 1));
  }
  quicksort(0, len - 1);
  let check: i32 = 0;
  for (let i = 0; i < len; i++) {
    if (i > 0 && load<i32>(at(i - 1)) > load<i32>(at(i))) return -1;
    check = check * 31 + load<i32>(at(i));
  }
  return check;
}
