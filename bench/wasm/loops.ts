// Integer loops: nested counted loops with arithmetic, shifts and a
// data-dependent branch — the shape of most kernel and runtime inner loops.

export function run(n: i32): i32 {
  let acc: i32 = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 100; j++) {
      const t = (i * j) ^ (acc >>> 3);
      if (t & 1) acc += t;
      else acc -= t >> 1;
    }
  }
  return acc;
}
