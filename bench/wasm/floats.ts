// Float workloads for the differential tests: Mandelbrot escape counts,
// an n-body style integration with sqrt, and AssemblyScript's own Math
// (exp, log, sin, pow: pure wasm code), folded into an integer checksum.

function mandel(w: i32, h: i32, iters: i32): i32 {
  let total = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cr = (f64(x) / f64(w)) * 3.0 - 2.0;
      const ci = (f64(y) / f64(h)) * 2.0 - 1.0;
      let zr = 0.0, zi = 0.0;
      let k = 0;
      while (k < iters && zr * zr + zi * zi < 4.0) {
        const t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        k++;
      }
      total += k;
    }
  }
  return total;
}

function bodies(steps: i32): f64 {
  let x0 = 0.0, y0 = 0.0, vx0 = 0.0, vy0 = 0.1;
  let x1 = 1.0, y1 = 0.0, vx1 = 0.0, vy1 = -0.1;
  let x2: f32 = -1.0, y2: f32 = 0.5;
  for (let s = 0; s < steps; s++) {
    const dx = x1 - x0, dy = y1 - y0;
    const d2 = dx * dx + dy * dy + 0.01;
    const inv = 1.0 / (d2 * Math.sqrt(d2));
    vx0 += dx * inv * 0.01; vy0 += dy * inv * 0.01;
    vx1 -= dx * inv * 0.01; vy1 -= dy * inv * 0.01;
    x0 += vx0 * 0.01; y0 += vy0 * 0.01; x1 += vx1 * 0.01; y1 += vy1 * 0.01;
    x2 = Mathf.sqrt(x2 * x2 + 1.0) - f32(0.999) + f32(min(x0, y1)) * f32(0.001);
    y2 = f32(Math.floor(f64(y2) * 7.0 + 0.5) / 7.0 + Math.ceil(x1) * 0.0001);
  }
  return x0 + y0 * 3.0 + x1 * 5.0 + y1 * 7.0 + f64(x2) * 11.0 + f64(y2) * 13.0 + Math.abs(vx0) - Math.trunc(vy1 * 1000.0);
}

function mathlib(n: i32): f64 {
  let acc = 0.0;
  for (let i = 1; i <= n; i++) {
    const x = f64(i) * 0.37;
    acc += Math.exp(-x * 0.01) + Math.log(x + 1.0) + Math.sin(x) * Math.cos(x * 0.5) + Math.pow(1.0001, f64(i)) + Math.round(x) * 0.5;
    acc = copysign(acc, Math.sin(f64(i)) + 2.0);
  }
  return acc;
}

export function run(n: i32): i32 {
  const m = mandel(24 + n % 8, 16, 40 + n % 16);
  const b = bodies(200 + n);
  const l = mathlib(100 + n);
  return m ^ i32(i64(b * 1000000.0) & 0x7fffffff) ^ i32(u64(l * 1000.0) % 1000003) ^ i32(reinterpret<i64>(b * l) >> 20);
}
