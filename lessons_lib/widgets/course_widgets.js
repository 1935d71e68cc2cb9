// The course's interactive figures, computed and drawn in the browser.
//
// One ES module (plain JavaScript, no build step, no imports) for the anywidget widgets
// of lessons_lib.widgets: the trajectory explorer, the rate map (heavy ball, Nesterov, or
// where each is faster), the SGD explorer, the spectrum of many eigenvalues and lesson 00's
// parabola check. The default export's render() picks the figure by the model's `kind`.
// Python (lessons_lib.widgets) holds the state as traitlets; this module reads the full
// state on every draw, so the picture is a function of the state alone.
//
// The maths is written exactly as lessons_lib computes it (same operations in the same
// order, IEEE double arithmetic), so the iterates equal lessons_lib.optimizers.run and the
// rates equal lessons_lib.theory. The named exports below the maths (simulate,
// momentumRate, ...) are what the browser tests compare with Python.

// ---------------------------------------------------------------------------------------
// Numbers as Python prints them: f"{x:.4f}", f"{x:.2e}", f"{x:.4g}" (round half to even
// on the exact binary value, as CPython does).
// ---------------------------------------------------------------------------------------

/** The exact decimal value of a finite double |x|: digits * 10^-point (digits a BigInt). */
function exactDecimal(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  let e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) e = 1;
  else m |= 1n << 52n;
  e -= 1075; // |x| = m * 2^e
  if (e >= 0) return { digits: m << BigInt(e), point: 0 };
  return { digits: m * 5n ** BigInt(-e), point: -e }; // m * 2^e = m * 5^-e / 10^-e
}

/** round_half_even(digits * 10^(keep - point)) as a BigInt. */
function roundDecimal(digits, point, keep) {
  const drop = point - keep;
  if (drop <= 0) return digits * 10n ** BigInt(-drop);
  const div = 10n ** BigInt(drop);
  let q = digits / div;
  const twice = 2n * (digits % div);
  if (twice > div || (twice === div && q % 2n === 1n)) q += 1n;
  return q;
}

function special(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return null;
}

function isNegative(x) {
  return x < 0 || Object.is(x, -0);
}

/** Python's f"{x:.{p}f}". */
export function formatF(x, p) {
  const s = special(x);
  if (s) return s;
  const { digits, point } = exactDecimal(x);
  let text = roundDecimal(digits, point, p).toString().padStart(p + 1, "0");
  if (p > 0) text = text.slice(0, -p) + "." + text.slice(-p);
  return (isNegative(x) ? "-" : "") + text;
}

/** Mantissa digits (p + 1 significant, a string) and decimal exponent of x rounded. */
function scientific(x, p) {
  const { digits, point } = exactDecimal(x);
  if (digits === 0n) return { mant: "0".repeat(p + 1), exp: 0 };
  let exp = digits.toString().length - 1 - point;
  let n = roundDecimal(digits, point, p - exp);
  if (n.toString().length > p + 1) {
    // 9.99 rounded up to 10.0: one more power of ten
    exp += 1;
    n = roundDecimal(digits, point, p - exp);
  }
  return { mant: n.toString(), exp };
}

function expText(exp) {
  return (exp < 0 ? "e-" : "e+") + String(Math.abs(exp)).padStart(2, "0");
}

/** Python's f"{x:.{p}e}". */
export function formatE(x, p) {
  const s = special(x);
  if (s) return s;
  const { mant, exp } = scientific(x, p);
  const body = p > 0 ? mant[0] + "." + mant.slice(1) : mant;
  return (isNegative(x) ? "-" : "") + body + expText(exp);
}

/** Python's f"{x:.{p}g}" (and f"{x:g}" with p = 6). */
export function formatG(x, p = 6) {
  const s = special(x);
  if (s) return s;
  if (p === 0) p = 1;
  const { mant, exp } = scientific(x, p - 1);
  const sign = isNegative(x) ? "-" : "";
  const strip = (t) => (t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t);
  if (-4 <= exp && exp < p) return strip(formatF(x, p - 1 - exp));
  const body = strip(p > 1 ? mant[0] + "." + mant.slice(1) : mant);
  return sign + body + expText(exp);
}

// ---------------------------------------------------------------------------------------
// Surfaces. A surface spec comes from Python (lessons_lib.widgets._base.surface_spec):
// {name, kind, coef, xlim, ylim, minima, f_min, escape_radius, start, title, ...}.
// Each f and gradient below repeats lessons_lib.surfaces operation for operation.
// ---------------------------------------------------------------------------------------

const TWO_PI = 2.0 * Math.PI; // 2 * np.pi

const FUNCTIONS = new WeakMap(); // spec -> its functions, built once per spec object

/** {f(x, y), grad(x, y, g)} of a surface spec; grad writes (df/dx, df/dy) into g. */
export function surfaceFunctions(spec) {
  let fns = FUNCTIONS.get(spec);
  if (!fns) {
    fns = buildFunctions(spec);
    FUNCTIONS.set(spec, fns);
  }
  return fns;
}

function buildFunctions(spec) {
  const c = spec.coef || {};
  switch (spec.kind) {
    case "quadratic": {
      // 0.5 * (a x^2 + 2 b x y + d y^2), gradient H (x, y) with H = [[a, b], [b, d]]
      const { a, b, d } = c;
      return {
        f: (x, y) => 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y),
        grad: (x, y, g) => { g[0] = a * x + b * y; g[1] = b * x + d * y; },
      };
    }
    case "lsq": {
      // J = 0.5 t^T A t - b^T t + c, the least-squares loss of the line t0 + t1 x
      const { a00, a01, a11, b0, b1 } = c;
      const c0 = c.c;
      return {
        f: (t0, t1) => 0.5 * (a00 * t0 * t0 + 2.0 * a01 * t0 * t1 + a11 * t1 * t1) - b0 * t0 - b1 * t1 + c0,
        grad: (t0, t1, g) => { g[0] = a00 * t0 + a01 * t1 - b0; g[1] = a01 * t0 + a11 * t1 - b1; },
      };
    }
    case "rosenbrock":
      // (1 - x)^2 + 100 (y - x^2)^2
      return {
        f: (x, y) => { const u = 1.0 - x, v = y - x * x; return u * u + 100.0 * (v * v); },
        grad: (x, y, g) => {
          const r = y - x * x;
          g[0] = -2.0 * (1.0 - x) - 400.0 * x * r;
          g[1] = 200.0 * r;
        },
      };
    case "beale":
      // (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2
      return {
        f: (x, y) => {
          const t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y * y, t3 = 2.625 - x + x * y * y * y;
          return t1 * t1 + t2 * t2 + t3 * t3;
        },
        grad: (x, y, g) => {
          const y2 = y * y, y3 = y2 * y;
          const t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y2, t3 = 2.625 - x + x * y3;
          g[0] = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0));
          g[1] = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3);
        },
      };
    case "himmelblau":
      // (x^2 + y - 11)^2 + (x + y^2 - 7)^2
      return {
        f: (x, y) => { const a = x * x + y - 11.0, b = x + y * y - 7.0; return a * a + b * b; },
        grad: (x, y, g) => {
          const a = x * x + y - 11.0, b = x + y * y - 7.0;
          g[0] = 4.0 * x * a + 2.0 * b;
          g[1] = 2.0 * a + 4.0 * y * b;
        },
      };
    case "saddle":
      // x^2 - y^2
      return {
        f: (x, y) => x * x - y * y,
        grad: (x, y, g) => { g[0] = 2.0 * x; g[1] = -2.0 * y; },
      };
    case "rastrigin":
      // 20 + sum_i (z_i^2 - 10 cos(2 pi z_i))
      return {
        f: (x, y) => 20.0 + x * x - 10.0 * Math.cos(TWO_PI * x) + y * y - 10.0 * Math.cos(TWO_PI * y),
        grad: (x, y, g) => {
          g[0] = 2.0 * x + 10.0 * TWO_PI * Math.sin(TWO_PI * x);
          g[1] = 2.0 * y + 10.0 * TWO_PI * Math.sin(TWO_PI * y);
        },
      };
    default:
      throw new Error(`unknown surface kind ${JSON.stringify(spec.kind)}`);
  }
}

/** The spec of 0.5 (mu x^2 + L y^2), as lessons_lib.surfaces.quadratic([mu, L]) (angle 0). */
export function quadraticSpec(mu, L) {
  return {
    name: "quadratic", kind: "quadratic", coef: { a: mu, b: 0.0, d: L },
    xlim: [-10, 10], ylim: [-5, 5], minima: [[0, 0]], f_min: 0.0, escape_radius: 1e4, start: [-8, 3],
  };
}

// ---------------------------------------------------------------------------------------
// The optimizers in PyTorch's form (lessons_lib.optimizers), gradient g_k = grad f(p_k):
//   gd:        p_{k+1} = p_k - lr g_k
//   momentum:  b_{k+1} = beta b_k + g_k (b_0 = 0),  p_{k+1} = p_k - lr b_{k+1}
//   nesterov:  b_{k+1} = beta b_k + g_k,           p_{k+1} = p_k - lr (g_k + beta b_{k+1})
// An iterate that leaves the square max(|x|, |y|) <= escape_radius (or is NaN) diverges
// at that step k: the run stops and points/losses are NaN from k on.
// ---------------------------------------------------------------------------------------

export const METHODS = ["gd", "momentum", "nesterov"];

/**
 * Run `method` from x0 = [x, y] for `steps` steps on a surface spec.
 * Returns {points: Float64Array(2 (steps + 1)) as x0, y0, x1, y1, ...;
 *          losses: Float64Array(steps + 1); divergedAt: the step or null}.
 */
export function simulate(spec, x0, method, lr, beta, steps) {
  const S = surfaceFunctions(spec);
  const radius = spec.escape_radius;
  const points = new Float64Array(2 * (steps + 1)).fill(NaN);
  const losses = new Float64Array(steps + 1).fill(NaN);
  const g = new Float64Array(2);
  let x = x0[0], y = x0[1], bx = 0.0, by = 0.0, divergedAt = null;
  points[0] = x;
  points[1] = y;
  for (let k = 1; k <= steps; k++) {
    S.grad(x, y, g);
    const gx = g[0], gy = g[1];
    if (method === "gd") {
      x -= lr * gx;
      y -= lr * gy;
    } else {
      bx = beta * bx + gx;
      by = beta * by + gy;
      if (method === "nesterov") {
        x -= lr * (gx + beta * bx);
        y -= lr * (gy + beta * by);
      } else {
        x -= lr * bx;
        y -= lr * by;
      }
    }
    if (!(Math.abs(x) <= radius && Math.abs(y) <= radius)) { // NaN fails too
      divergedAt = k;
      break;
    }
    points[2 * k] = x;
    points[2 * k + 1] = y;
  }
  for (let k = 0; k <= steps; k++) losses[k] = S.f(points[2 * k], points[2 * k + 1]);
  return { points, losses, divergedAt };
}

/** First k with losses[k] - fMin <= tol, or null (lessons_lib.optimizers.Trajectory.steps_to). */
export function stepsTo(losses, fMin, tol) {
  for (let k = 0; k < losses.length; k++) if (losses[k] - fMin <= tol) return k;
  return null;
}

// ---------------------------------------------------------------------------------------
// Theory on quadratics (lessons_lib.theory). Per eigenvalue lam the heavy ball acts on
// (x_k, x_{k-1}) by [[1 + beta - lr lam, -beta], [1, 0]]; its eigenvalues solve
// z^2 - trace z + det = 0 and the rate is the largest |z| over the eigenvalues.
// ---------------------------------------------------------------------------------------

/** Largest |z| over the roots of z^2 - trace z + det: sqrt|det| when complex. */
export function spectralRadius2x2(trace, det) {
  const disc = trace * trace - 4.0 * det;
  if (disc >= 0) return (Math.abs(trace) + Math.sqrt(Math.max(disc, 0.0))) / 2.0;
  return Math.sqrt(Math.abs(det));
}

/** Gradient descent: max_i |1 - lr lam_i|. */
export function gdRate(lr, eigenvalues) {
  let r = -Infinity;
  for (const lam of eigenvalues) r = Math.max(r, Math.abs(1.0 - lr * lam));
  return r;
}

/** Heavy ball: trace 1 + beta - lr lam, det beta (sqrt(beta) in the complex regime). */
export function momentumRate(lr, beta, eigenvalues) {
  let r = -Infinity;
  for (const lam of eigenvalues) r = Math.max(r, spectralRadius2x2(1.0 + beta - lr * lam, beta));
  return r;
}

/** Nesterov: with c = 1 - lr lam, trace (1 + beta) c, det beta c. */
export function nesterovRate(lr, beta, eigenvalues) {
  let r = -Infinity;
  for (const lam of eigenvalues) {
    const c = 1.0 - lr * lam;
    r = Math.max(r, spectralRadius2x2((1.0 + beta) * c, beta * c));
  }
  return r;
}

/** theory.momentum_regime: ripples (complex roots), monotone, oscillation, divergence. */
export function momentumRegime(lr, beta, lam) {
  const trace = 1.0 + beta - lr * lam;
  const disc = trace * trace - 4.0 * beta;
  if (spectralRadius2x2(trace, beta) >= 1.0) return "divergence";
  if (disc < 0) return "ripples";
  return trace >= 0 ? "monotone" : "oscillation";
}

/** Polyak's pair for eigenvalues in [mu, L]: [lr, beta, rate] (theory.optimal_momentum). */
export function optimalMomentum(mu, L) {
  const sm = Math.sqrt(mu), sL = Math.sqrt(L);
  const q = 2.0 / (sm + sL), r = (sL - sm) / (sL + sm);
  return [q * q, r * r, r];
}

/** Best gradient-descent step: [2 / (mu + L), (L - mu) / (L + mu)] (theory.optimal_gd). */
export function optimalGd(mu, L) {
  return [2.0 / (mu + L), (L - mu) / (L + mu)];
}

// --- Nesterov on the same axes (theory.nesterov_regime, nesterov_edge, optimal_nesterov) ---

/** theory.nesterov_regime: with c = 1 - lr lam, the roots of z^2 - (1 + beta) c z + beta c. */
export function nesterovRegime(lr, beta, lam) {
  return REGIMES[nesterovCode(lr, beta, lam)];
}

function nesterovCode(lr, beta, lam) {
  const c = 1.0 - lr * lam, trace = (1.0 + beta) * c, det = beta * c;
  if (spectralRadius2x2(trace, det) >= 1.0) return 3;
  if (trace * trace - 4.0 * det < 0) return 0;
  return trace >= 0 ? 1 : 2;
}

/** Nesterov converges on lam iff 0 < lr lam < (2 + 2 beta) / (1 + 2 beta) (theory.nesterov_edge). */
export function nesterovEdge(beta) {
  return (2.0 + 2.0 * beta) / (1.0 + 2.0 * beta);
}

/** Nesterov's rate over {mu, L} (theory.nesterov_rate(lr, beta, [mu, L])), without an array. */
function nesterovRate2(lr, beta, mu, L) {
  const cm = 1.0 - lr * mu, cl = 1.0 - lr * L;
  return Math.max(spectralRadius2x2((1.0 + beta) * cm, beta * cm), spectralRadius2x2((1.0 + beta) * cl, beta * cl));
}

/** The heavy ball's rate over {mu, L} (theory.momentum_rate(lr, beta, [mu, L])), without an array. */
function momentumRate2(lr, beta, mu, L) {
  return Math.max(spectralRadius2x2(1.0 + beta - lr * mu, beta), spectralRadius2x2(1.0 + beta - lr * L, beta));
}

/**
 * Nesterov's best constant pair for [mu, L], [lr, beta, rate], found as theory.optimal_nesterov
 * finds it, step for step: a 41 x 41 grid over lr in [0, 2/L] and beta in [0, 1], re-centred on
 * its best point (the first, in row-major order) and halved, 40 times.
 */
export function optimalNesterov(mu, L) {
  const m = 20, size = 2 * m + 1, hiLr = 2.0 / L;
  let cLr = hiLr / 2.0, cB = 0.5, wLr = hiLr / 2.0, wB = 0.5;
  const lrs = new Float64Array(size), bs = new Float64Array(size);
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < size; i++) {
      const o = i - m;
      lrs[i] = Math.min(Math.max(cLr + wLr * o / m, 0.0), hiLr);
      bs[i] = Math.min(Math.max(cB + wB * o / m, 0.0), 1.0);
    }
    let best = Infinity, br = 0, bc = 0;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const v = nesterovRate2(lrs[c], bs[r], mu, L);
        if (v < best) { best = v; br = r; bc = c; }
      }
    }
    cB = bs[br];
    cLr = lrs[bc];
    wLr /= 2.0;
    wB /= 2.0;
  }
  return [cLr, cB, nesterovRate2(cLr, cB, mu, L)];
}

/** The best pair of a map's method: Polyak's for the heavy ball, the search for Nesterov. */
export function optimumOf(method, mu, L) {
  return method === "nesterov" ? optimalNesterov(mu, L) : optimalMomentum(mu, L);
}

export const VERDICTS = ["heavy ball faster", "Nesterov faster", "tie", "both diverge"];
export const TIE_RTOL = 1e-9;

/**
 * Which worst-case rate over [mu, L] is smaller (rate_map.compare_rates): {code, ratio}, code an
 * index into VERDICTS, ratio the faster's steps over the slower's (0 where the slower diverges).
 */
export function compareRates(lr, beta, mu, L) {
  const rH = momentumRate2(lr, beta, mu, L), rN = nesterovRate2(lr, beta, mu, L);
  const fast = Math.min(rH, rN), slow = Math.max(rH, rN);
  let code;
  if (slow >= 1.0) code = fast >= 1.0 ? 3 : rN < rH ? 1 : 0;
  else code = slow - fast <= TIE_RTOL * slow ? 2 : rN < rH ? 1 : 0;
  let ratio = slow >= 1.0 ? 0.0 : Math.log(slow) / Math.log(fast);
  if (fast === 0.0) ratio = 0.0;
  if (code === 2) ratio = 1.0;
  else if (code === 3) ratio = NaN;
  return { code, ratio };
}

/** ceil(log(factor) / log(rate)): steps for rate^k to fall to factor; null if rate >= 1. */
export function stepsToShrink(rate, factor = 1e-6) {
  if (rate >= 1.0) return null;
  if (rate === 0.0) return 1;
  return Math.ceil(Math.log(factor) / Math.log(rate));
}

// --- the rate map's regions and where their names go (rate_map.regime_label_positions) ---

export const LR_MAX = 4.0;
export const REGIMES = ["ripples", "monotone", "oscillation", "divergence"];

/** The regime of the eigen-component (mu or L) with the larger radius; ties prefer a real root. */
export function dominantRegime(lr, beta, mu, L, method = "momentum") {
  return REGIMES[dominantCode(lr, beta, mu, L, method)];
}

/** momentumRegime as an index into REGIMES (0 ripples, 1 monotone, 2 oscillation, 3 divergence). */
function regimeCode(trace, beta, radius) {
  return radius >= 1.0 ? 3 : trace * trace - 4.0 * beta < 0 ? 0 : trace >= 0 ? 1 : 2;
}

function dominantCode(lr, beta, mu, L, method = "momentum") {
  if (method === "nesterov") {
    const rMu = nesterovRate2(lr, beta, mu, mu), rL = nesterovRate2(lr, beta, L, L);
    const gMu = nesterovCode(lr, beta, mu);
    return rL > rMu || (rL === rMu && gMu === 0) ? nesterovCode(lr, beta, L) : gMu;
  }
  const tMu = 1.0 + beta - lr * mu, tL = 1.0 + beta - lr * L;
  const rMu = spectralRadius2x2(tMu, beta), rL = spectralRadius2x2(tL, beta);
  const gMu = regimeCode(tMu, beta, rMu);
  return rL > rMu || (rL === rMu && gMu === 0) ? regimeCode(tL, beta, rL) : gMu;
}

/**
 * Erosion depth of a mask (n x n, row-major): how many 4-neighbour erosions a cell survives,
 * -1 outside, with everything beyond the array's edge outside. That is the city-block
 * distance to the nearest outside cell, minus 1: two passes (down-right, then up-left).
 */
function erosionDepth(mask, n) {
  const d = new Int32Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const i = r * n + c;
      d[i] = mask[i] ? Math.min(r === 0 ? 1 : d[i - n] + 1, c === 0 ? 1 : d[i - 1] + 1) : 0;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let c = n - 1; c >= 0; c--) {
      const i = r * n + c;
      if (mask[i]) d[i] = Math.min(d[i], r === n - 1 ? 1 : d[i + n] + 1, c === n - 1 ? 1 : d[i + 1] + 1);
    }
  }
  for (let i = 0; i < n * n; i++) d[i] -= 1;
  return d;
}

/** Cells around which a (2 hr + 1) x (2 hc + 1) box lies inside the mask (summed-area table). */
function boxFits(mask, n, hr, hc) {
  const table = new Float64Array((n + 1) * (n + 1));
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      table[(r + 1) * (n + 1) + c + 1] = mask[r * n + c] + table[r * (n + 1) + c + 1]
        + table[(r + 1) * (n + 1) + c] - table[r * (n + 1) + c];
    }
  }
  const out = new Uint8Array(n * n);
  const full = (2 * hr + 1) * (2 * hc + 1);
  let any = false;
  for (let r = hr; r < n - hr; r++) {
    for (let c = hc; c < n - hc; c++) {
      const at = (rr, cc) => table[rr * (n + 1) + cc];
      const total = at(r + hr + 1, c + hc + 1) - at(r - hr, c + hc + 1) - at(r + hr + 1, c - hc) + at(r - hr, c - hc);
      if (total === full) { out[r * n + c] = 1; any = true; }
    }
  }
  return { out, any };
}

/** The deepest cell of `among` (the one nearest the centroid of the deepest), as [row, col]. */
function deepest(depth, among, n) {
  let best = -1;
  for (let i = 0; i < n * n; i++) if (among[i] && depth[i] > best) best = depth[i];
  const rows = [], cols = [];
  for (let i = 0; i < n * n; i++) {
    if ((among[i] ? depth[i] : -1) === best) { rows.push(Math.floor(i / n)); cols.push(i % n); }
  }
  let sr = 0, sc = 0;
  for (let i = 0; i < rows.length; i++) { sr += rows[i]; sc += cols[i]; }
  const mr = sr / rows.length, mc = sc / cols.length;
  let arg = 0, dmin = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const d = (rows[i] - mr) * (rows[i] - mr) + (cols[i] - mc) * (cols[i] - mc);
    if (d < dmin) { dmin = d; arg = i; }
  }
  return [rows[arg], cols[arg]];
}

const CALLOUT_OFFSETS = [[0.75, -0.1], [0.75, 0.12], [-0.75, 0.12], [0.0, 0.18], [0.0, -0.15], [-0.75, -0.1]];

function textHalfSize(name) {
  return [0.035 * name.length + 0.03, 0.03];
}

function overlaps(a, b) {
  return Math.abs(a[0] - b[0]) < a[2] + b[2] && Math.abs(a[1] - b[1]) < a[3] + b[3];
}

/**
 * Where to name each regime on the map: {regime: {point: [lr, beta], text: [lr, beta]} | null}.
 * The point is the deepest cell of the region among those where the name fits (then
 * text == point); a region too thin for its name gets the name beside it, clear of the
 * other names and the optimum markers (drawn with an arrow). The same algorithm as
 * lessons_lib.widgets.rate_map.regime_label_positions, on an n x n grid of cell centres.
 */
export function regimeLabelPositions(mu, L = 1.0, n = 160, method = "momentum") {
  const lr = new Float64Array(n), beta = new Float64Array(n);
  for (let i = 0; i < n; i++) { lr[i] = (i + 0.5) / n * LR_MAX; beta[i] = (i + 0.5) / n; }
  const regime = new Uint8Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) regime[r * n + c] = dominantCode(lr[c], beta[r], mu, L, method);
  }
  const [lrOpt, betaOpt] = optimumOf(method, mu, L);
  const taken = [[lrOpt, betaOpt, 0.12, 0.04], [optimalGd(mu, L)[0], 0.0, 0.1, 0.04]];
  const out = {}, thin = [];
  REGIMES.forEach((name, code) => {
    const mask = new Uint8Array(n * n);
    let any = false;
    for (let i = 0; i < n * n; i++) if (regime[i] === code) { mask[i] = 1; any = true; }
    if (!any) { out[name] = null; return; }
    const [hw, hh] = textHalfSize(name);
    const fits = boxFits(mask, n, Math.ceil(hh * n), Math.ceil(hw * n / LR_MAX));
    const [row, col] = deepest(erosionDepth(mask, n), fits.any ? fits.out : mask, n);
    const point = [lr[col], beta[row]];
    if (fits.any) {
      out[name] = { point, text: point };
      taken.push([point[0], point[1], hw, hh]);
    } else {
      thin.push([name, point]);
    }
  });
  for (const [name, point] of thin) {
    const [hw, hh] = textHalfSize(name);
    const spots = CALLOUT_OFFSETS.map(([dx, dy]) => [
      Math.min(Math.max(point[0] + dx, hw), LR_MAX - hw), Math.min(Math.max(point[1] + dy, hh), 1.0 - hh)]);
    const free = spots.filter((p) => !taken.some((box) => overlaps([p[0], p[1], hw, 1.5 * hh], box)));
    const text = (free.length ? free : spots)[0];
    out[name] = { point, text };
    taken.push([text[0], text[1], hw, hh]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Minibatch SGD on the least-squares loss (lessons_lib.widgets.sgd.sgd_path). The draws
// I_k come from Python (numpy's generator); everything else is recomputed here.
// ---------------------------------------------------------------------------------------

/** Sum of a[0..n) as numpy's add.reduce computes it (pairwise, blocks of 8 accumulators). */
export function pairwiseSum(a, n, start = 0) {
  if (n < 8) {
    let res = 0.0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, n2, start) + pairwiseSum(a, n - n2, start + n2);
}

/**
 * theta_k = theta_{k-1} - lr b_k, b_k = beta b_{k-1} + g_k, with the minibatch gradient
 * g_k = 1/B sum_{i in I_k} r_i (1, x_i), r_i = theta0 + theta1 x_i - y_i.
 * `draws` holds I_1, I_2, ... (B indices each, row-major), or null for the full batch
 * (every step uses all m points in order). Returns {points, divergedAt} as simulate().
 */
export function sgdPath(x, y, start, lr, batchSize, steps, draws, beta, radius) {
  const B = batchSize;
  const points = new Float64Array(2 * (steps + 1)).fill(NaN);
  const r = new Float64Array(B), rx = new Float64Array(B);
  let t0 = start[0], t1 = start[1], b0 = 0.0, b1 = 0.0;
  points[0] = t0;
  points[1] = t1;
  for (let k = 1; k <= steps; k++) {
    for (let i = 0; i < B; i++) {
      const j = draws ? draws[(k - 1) * B + i] : i;
      const xi = x[j];
      r[i] = t0 + t1 * xi - y[j];
      rx[i] = r[i] * xi;
    }
    const g0 = pairwiseSum(r, B) / B, g1 = pairwiseSum(rx, B) / B;
    b0 = beta * b0 + g0;
    b1 = beta * b1 + g1;
    t0 -= lr * b0;
    t1 -= lr * b1;
    if (!(Math.abs(t0) <= radius && Math.abs(t1) <= radius)) return { points, divergedAt: k };
    points[2 * k] = t0;
    points[2 * k + 1] = t1;
  }
  return { points, divergedAt: null };
}

/** Polyak-Ruppert averages: row k is (theta_1 + ... + theta_k) / k, row 0 is theta_0. */
export function runningAverage(points) {
  const n = points.length / 2;
  const avg = new Float64Array(points.length);
  avg[0] = points[0];
  avg[1] = points[1];
  let s0 = 0.0, s1 = 0.0;
  for (let k = 1; k < n; k++) {
    s0 = k === 1 ? points[2] : s0 + points[2 * k];
    s1 = k === 1 ? points[3] : s1 + points[2 * k + 1];
    avg[2 * k] = s0 / k;
    avg[2 * k + 1] = s1 / k;
  }
  return avg;
}

/** A distance to theta* for the readout; below 1e-12 it is rounding noise (as sgd.format_distance). */
export function formatDistance(d) {
  return d < 1e-12 ? "< 1e-12" : `= ${formatE(d, 2)}`;
}

/** ||theta_k - theta*|| per row (sqrt(d0^2 + d1^2), as np.linalg.norm), floored at 1e-300. */
export function distances(points, star) {
  const n = points.length / 2;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const d0 = points[2 * k] - star[0], d1 = points[2 * k + 1] - star[1];
    const d = Math.sqrt(d0 * d0 + d1 * d1);
    out[k] = Number.isNaN(d) ? NaN : Math.max(d, 1e-300);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Contours: f on a grid, levels spaced evenly in log(f - f_min) (linearly when the
// surface has no minimum), and marching squares for the level lines.
// ---------------------------------------------------------------------------------------

/** f on an nx x ny grid over xlim x ylim (row j is y_j, column i is x_i; row-major). */
export function gridValues(f, xlim, ylim, nx, ny) {
  const Z = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    const y = ylim[0] + (ylim[1] - ylim[0]) * j / (ny - 1);
    for (let i = 0; i < nx; i++) Z[j * nx + i] = f(xlim[0] + (xlim[1] - xlim[0]) * i / (nx - 1), y);
  }
  return Z;
}

/** Contour levels as lessons_lib.plotting.contour_levels: geometric in f - f_min from a low quantile. */
export function contourLevels(Z, fMin, n) {
  const finite = Array.from(Z).filter(Number.isFinite);
  if (fMin === null || fMin === undefined) {
    const lo = Math.min(...finite), hi = Math.max(...finite);
    return Array.from({ length: n }, (_, i) => lo + (hi - lo) * i / (n - 1));
  }
  const gap = Float64Array.from(finite, (z) => z - fMin).sort();
  const top = gap[gap.length - 1];
  const q = gap[Math.floor(0.002 * (gap.length - 1))];
  const low = Math.max(q, 1e-3 * top, 1e-12);
  return Array.from({ length: n }, (_, i) => fMin + low * Math.pow(top / low, i / (n - 1)));
}

// Marching squares: for each of the 16 corner patterns (bit 1: (i, j), 2: (i+1, j),
// 4: (i+1, j+1), 8: (i, j+1) above the level) the cell edges the line crosses, in pairs.
// Edges: 0 bottom, 1 right, 2 top, 3 left. The saddles 5 and 10 are split by the centre value.
const MS_SEGMENTS = [[], [3, 0], [0, 1], [3, 1], [1, 2], null, [0, 2], [3, 2],
  [2, 3], [0, 2], null, [1, 2], [1, 3], [0, 1], [3, 0], []];

/** Line segments of {f = level} as [x1, y1, x2, y2, ...] in grid coordinates (column, row). */
export function marchingSquares(Z, nx, ny, level) {
  const out = [];
  const cross = (e, i, j, z00, z10, z11, z01) => {
    const t = (za, zb) => (level - za) / (zb - za);
    switch (e) {
      case 0: return [i + t(z00, z10), j];
      case 1: return [i + 1, j + t(z10, z11)];
      case 2: return [i + t(z01, z11), j + 1];
      default: return [i, j + t(z00, z01)];
    }
  };
  for (let j = 0; j < ny - 1; j++) {
    for (let i = 0; i < nx - 1; i++) {
      const z00 = Z[j * nx + i], z10 = Z[j * nx + i + 1], z01 = Z[(j + 1) * nx + i], z11 = Z[(j + 1) * nx + i + 1];
      const idx = (z00 > level) | ((z10 > level) << 1) | ((z11 > level) << 2) | ((z01 > level) << 3);
      if (idx === 0 || idx === 15) continue;
      let pairs = MS_SEGMENTS[idx];
      if (pairs === null) {
        const centre = (z00 + z10 + z11 + z01) / 4 > level;
        // 5: corners (i, j) and (i+1, j+1) above; 10: the other diagonal
        pairs = idx === 5 ? (centre ? [3, 2, 0, 1] : [3, 0, 1, 2]) : (centre ? [0, 3, 1, 2] : [0, 1, 2, 3]);
      }
      for (let p = 0; p < pairs.length; p += 2) {
        const a = cross(pairs[p], i, j, z00, z10, z11, z01), b = cross(pairs[p + 1], i, j, z00, z10, z11, z01);
        out.push(a[0], a[1], b[0], b[1]);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Drawing: panels (data <-> pixel maps, linear or log), ticks, lines with gaps at NaN,
// markers, legends. Everything is drawn in CSS pixels; the context is scaled by the
// device pixel ratio.
// ---------------------------------------------------------------------------------------

// Okabe-Ito, colour-blind safe; each method also has its own line style.
export const COLORS = {
  black: "#000000", orange: "#E69F00", sky: "#56B4E9", green: "#009E73",
  yellow: "#F0E442", blue: "#0072B2", vermillion: "#D55E00", purple: "#CC79A7", grey: "#666666",
};
export const METHOD_STYLE = {
  gd: { label: "gradient descent", color: COLORS.blue, dash: [] },
  momentum: { label: "momentum", color: COLORS.vermillion, dash: [8, 4] },
  nesterov: { label: "Nesterov", color: COLORS.green, dash: [8, 3, 2, 3] },
};
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const SMALL_FONT = "11px system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const BOLD_FONT = "bold 12px system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** A plot area: rect {x, y, w, h} in CSS px and data limits; log axes map log10 of the data. */
class Panel {
  constructor(rect, xlim, ylim, { xlog = false, ylog = false, equal = false } = {}) {
    this.xlog = xlog;
    this.ylog = ylog;
    this.xlim = xlim;
    this.ylim = ylim;
    const tx = (v) => (xlog ? Math.log10(v) : v), ty = (v) => (ylog ? Math.log10(v) : v);
    this.tx = tx;
    this.ty = ty;
    let { x, y, w, h } = rect;
    if (equal) { // shrink the box so that one unit is as long on both axes
      const dx = xlim[1] - xlim[0], dy = ylim[1] - ylim[0];
      const s = Math.min(w / dx, h / dy);
      x += (w - dx * s) / 2;
      y += (h - dy * s) / 2;
      w = dx * s;
      h = dy * s;
    }
    this.rect = { x, y, w, h };
    this.x0 = tx(xlim[0]);
    this.x1 = tx(xlim[1]);
    this.y0 = ty(ylim[0]);
    this.y1 = ty(ylim[1]);
  }

  px(v) { return this.rect.x + (this.tx(v) - this.x0) / (this.x1 - this.x0) * this.rect.w; }
  py(v) { return this.rect.y + this.rect.h - (this.ty(v) - this.y0) / (this.y1 - this.y0) * this.rect.h; }

  /** Data coordinates of a pixel. */
  data(px, py) {
    const u = this.x0 + (px - this.rect.x) / this.rect.w * (this.x1 - this.x0);
    const v = this.y0 + (this.rect.y + this.rect.h - py) / this.rect.h * (this.y1 - this.y0);
    return [this.xlog ? 10 ** u : u, this.ylog ? 10 ** v : v];
  }

  contains(px, py) {
    const r = this.rect;
    return px >= r.x && px <= r.x + r.w && py >= r.y && py <= r.y + r.h;
  }

  clip(ctx) {
    ctx.beginPath();
    ctx.rect(this.rect.x, this.rect.y, this.rect.w, this.rect.h);
    ctx.clip();
  }
}

/** About n round-numbered ticks in [lo, hi] (steps 1, 2, 2.5, 5 times a power of ten). */
export function niceTicks(lo, hi, n = 5) {
  const raw = (hi - lo) / Math.max(n, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => s >= raw) || 10 * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / mag === 2.5 ? 1 : 0));
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toFixed(decimals)));
  }
  return ticks;
}

const SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074",
  5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

function powerOfTen(k) {
  return "10" + String(k).split("").map((ch) => SUPERSCRIPT[ch]).join("");
}

/** Decades 10^k inside [lo, hi], thinned to at most n labels. */
function logTicks(lo, hi, n = 6) {
  const a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9);
  const every = Math.max(1, Math.ceil((b - a + 1) / n));
  const ticks = [];
  for (let k = b; k >= a; k -= every) ticks.unshift(k);
  return ticks;
}

function tickLabel(t) {
  if (t === 0) return "0";
  const a = Math.abs(t);
  return a >= 1e4 || a < 1e-3 ? formatG(t, 3) : String(t);
}

/** Axes: left and bottom spines, ticks, labels and a title above the panel. */
function drawAxes(ctx, panel, { xlabel = "", ylabel = "", title = "", xticks = 5, yticks = 5 } = {}) {
  const { x, y, w, h } = panel.rect;
  ctx.save();
  ctx.strokeStyle = "#333";
  ctx.fillStyle = "#222";
  ctx.lineWidth = 1;
  ctx.font = SMALL_FONT;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x, y + h);
  ctx.lineTo(x + w, y + h);
  ctx.stroke();
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xs = panel.xlog ? logTicks(...panel.xlim).map((k) => [10 ** k, powerOfTen(k)])
    : niceTicks(...panel.xlim, xticks).map((t) => [t, tickLabel(t)]);
  for (const [t, label] of xs) {
    const px = panel.px(t);
    if (px < x - 0.5 || px > x + w + 0.5) continue;
    ctx.beginPath();
    ctx.moveTo(px, y + h);
    ctx.lineTo(px, y + h + 4);
    ctx.stroke();
    ctx.fillText(label, px, y + h + 6);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const ys = panel.ylog ? logTicks(...panel.ylim).map((k) => [10 ** k, powerOfTen(k)])
    : niceTicks(...panel.ylim, yticks).map((t) => [t, tickLabel(t)]);
  for (const [t, label] of ys) {
    const py = panel.py(t);
    if (py < y - 0.5 || py > y + h + 0.5) continue;
    ctx.beginPath();
    ctx.moveTo(x - 4, py);
    ctx.lineTo(x, py);
    ctx.stroke();
    ctx.fillText(label, x - 6, py);
  }
  ctx.font = FONT;
  if (xlabel) {
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(xlabel, x + w / 2, y + h + 21);
  }
  if (ylabel) {
    ctx.save();
    ctx.translate(x - 44, y + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
  }
  if (title) {
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(title, x + w / 2, y - 6);
  }
  ctx.restore();
}

/** A polyline through (xs[k], ys[k]) for k < n, broken where a value is not finite. */
function polyline(ctx, panel, n, xAt, yAt) {
  ctx.beginPath();
  let open = false;
  for (let k = 0; k < n; k++) {
    const u = xAt(k), v = yAt(k);
    if (!Number.isFinite(u) || !Number.isFinite(v) || (panel.xlog && u <= 0) || (panel.ylog && v <= 0)) {
      open = false;
      continue;
    }
    // Far outside the panel, pixel coordinates are clamped so that the canvas draws them.
    const px = Math.max(-1e5, Math.min(1e5, panel.px(u))), py = Math.max(-1e5, Math.min(1e5, panel.py(v)));
    if (open) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    open = true;
  }
  ctx.stroke();
}

function marker(ctx, kind, px, py, size, fill, edge = "#000", lineWidth = 1) {
  ctx.save();
  ctx.fillStyle = fill;
  ctx.strokeStyle = edge;
  ctx.lineWidth = lineWidth;
  ctx.setLineDash([]);
  ctx.beginPath();
  if (kind === "circle") {
    ctx.arc(px, py, size / 2, 0, 2 * Math.PI);
  } else if (kind === "square") {
    ctx.rect(px - size / 2, py - size / 2, size, size);
  } else if (kind === "diamond") {
    ctx.moveTo(px, py - size / 2);
    ctx.lineTo(px + size / 2, py);
    ctx.lineTo(px, py + size / 2);
    ctx.lineTo(px - size / 2, py);
    ctx.closePath();
  } else if (kind === "plus") { // a thick cross (matplotlib's "P")
    const a = size / 2, b = size / 6;
    for (const [x, y] of [[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b], [-a, b],
      [-a, -b], [-b, -b]]) ctx.lineTo(px + x, py + y);
    ctx.closePath();
  } else if (kind === "star") {
    for (let i = 0; i < 10; i++) {
      const r = i % 2 ? size * 0.2 : size / 2, a = -Math.PI / 2 + i * Math.PI / 5;
      const fn = i ? "lineTo" : "moveTo";
      ctx[fn](px + r * Math.cos(a), py + r * Math.sin(a));
    }
    ctx.closePath();
  }
  if (fill !== "none") ctx.fill();
  if (edge !== "none") ctx.stroke();
  ctx.restore();
}

/** A legend box at (x, y) (top-left, or top-right with align "right"); items {label, draw(ctx, x, y)}. */
function legend(ctx, items, x, y, align = "left", background = "rgba(255,255,255,0.85)") {
  if (!items.length) return;
  ctx.save();
  ctx.font = SMALL_FONT;
  const width = 30 + Math.max(...items.map((it) => ctx.measureText(it.label).width)) + 8;
  const height = 16 * items.length + 6;
  const left = align === "right" ? x - width : x;
  ctx.fillStyle = background;
  ctx.fillRect(left, y, width, height);
  items.forEach((it, i) => {
    const cy = y + 11 + 16 * i;
    ctx.save();
    it.draw(ctx, left + 14, cy);
    ctx.restore();
    ctx.fillStyle = "#222";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(it.label, left + 30, cy);
  });
  ctx.restore();
}

function lineSample(color, dash = [], width = 2) {
  return (ctx, x, y) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(x - 11, y);
    ctx.lineTo(x + 11, y);
    ctx.stroke();
  };
}

/**
 * A layer: an offscreen canvas the size of the figure, redrawn only when its key changes
 * (the contours when the surface or the size changes, not on a slider move).
 */
class Layer {
  constructor() {
    this.canvas = document.createElement("canvas");
    this.key = null;
  }

  get(key, width, height, dpr, paint) {
    if (key !== this.key) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      paint(ctx);
      this.key = key;
    }
    return this.canvas;
  }
}

const CONTOURS = new Map(); // key -> level lines in grid coordinates (a few recent surfaces)

/** Level lines of f over xlim x ylim: [{level, segments}], computed once per key. */
function contourLines(key, f, xlim, ylim, fMin, nLevels, grid) {
  let lines = CONTOURS.get(key);
  if (!lines) {
    const Z = gridValues(f, xlim, ylim, grid, grid);
    lines = contourLevels(Z, fMin, nLevels).map((level) => ({ level, segments: marchingSquares(Z, grid, grid, level) }));
    CONTOURS.set(key, lines);
    if (CONTOURS.size > 24) CONTOURS.delete(CONTOURS.keys().next().value);
  }
  return lines;
}

/** Contour lines of f over a panel (greys, dark at the low levels) and the minima as stars. */
function paintContours(ctx, panel, key, f, fMin, minima, nLevels, grid) {
  const lines = contourLines(`${key}|${nLevels}|${grid}`, f, panel.xlim, panel.ylim, fMin, nLevels, grid);
  ctx.save();
  panel.clip(ctx);
  ctx.lineWidth = 0.8;
  const sx = panel.rect.w / (grid - 1), sy = panel.rect.h / (grid - 1);
  lines.forEach(({ segments: seg }, li) => {
    const grey = Math.round(40 + 170 * li / Math.max(1, lines.length - 1));
    ctx.strokeStyle = `rgb(${grey},${grey},${grey})`;
    ctx.beginPath();
    for (let s = 0; s < seg.length; s += 4) {
      ctx.moveTo(panel.rect.x + seg[s] * sx, panel.rect.y + panel.rect.h - seg[s + 1] * sy);
      ctx.lineTo(panel.rect.x + seg[s + 2] * sx, panel.rect.y + panel.rect.h - seg[s + 3] * sy);
    }
    ctx.stroke();
  });
  ctx.restore();
  for (const [mx, my] of minima || []) marker(ctx, "star", panel.px(mx), panel.py(my), 15, COLORS.yellow);
}

// ---------------------------------------------------------------------------------------
// Controls. Sliders keep their own steps: the arrow keys move by `step` (with Shift by
// `fine`), Page Up/Down by ten steps; dragging snaps to `step`. Controls wrap onto new
// lines (flex-wrap) instead of shrinking.
// ---------------------------------------------------------------------------------------

const STYLE = `
.cw { font: 13px system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif;
  color: var(--jp-content-font-color1, #222);
  width: 100%; max-width: 100%; box-sizing: border-box; overflow-x: auto; }
.cw-row { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: center; margin: 2px 0 4px; }
.cw-control { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.cw-slider { flex: 1 1 280px; min-width: 280px; max-width: 420px; }
.cw-slider input[type=range] { flex: 1 1 auto; min-width: 120px; margin: 0; }
.cw-label { min-width: 4.5em; text-align: right; }
.cw-readout { min-width: 4.8em; font-variant-numeric: tabular-nums; }
.cw input[type=number] { width: 6.5em; }
.cw button { padding: 2px 10px; cursor: pointer; }
.cw-help { font-size: 12px; color: var(--jp-content-font-color2, #555); margin: 2px 0; }
.cw-title { font-weight: 600; margin: 6px 0 2px; }
.cw-canvas { display: block; touch-action: none; cursor: crosshair; }
.cw-readout-box { font-size: 12.5px; line-height: 1.45; margin: 4px 0; font-variant-numeric: tabular-nums; }
.cw-notice { color: #a33; }
.cw-error { color: #a00; white-space: pre-wrap; }
`;

function injectStyle() {
  if (typeof document === "undefined" || document.getElementById("course-widgets-style")) return;
  const style = document.createElement("style");
  style.id = "course-widgets-style";
  style.textContent = STYLE;
  document.head.appendChild(style);
}

/** document.createElement with a class, properties and children. */
function h(tag, className = "", props = {}, children = []) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") el.textContent = v;
    else if (k in el) el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

function decimalsOf(step) {
  const s = String(step);
  return s.includes("e-") ? Number(s.split("e-")[1]) : (s.split(".")[1] || "").length;
}

/** Snap v to the grid of multiples of `step` (as the nearest decimal number), inside [min, max]. */
function snap(v, step, min, max) {
  const snapped = Number((Math.round(v / step) * step).toFixed(decimalsOf(step)));
  return Math.min(max, Math.max(min, snapped));
}

/**
 * A slider with a label and a rounded readout.
 * opts: {label, min, max, step, fine, log (slider units are log10 of the value),
 *        bounds: [lo, hi] (the value's own limits, as Python validates them: 10 ** u may
 *        differ from Python's 10.0 ** u in the last bit), format(value) -> text,
 *        onChange(value), title}
 */
function slider(opts) {
  // label: the slider's name for assistive technology and tests; text: what the page shows (default label)
  const { label, text = label, step, fine = step, log = false, format, onChange } = opts;
  let { min, max } = opts;
  const input = h("input", "", { type: "range", min: String(min), max: String(max), step: "any" });
  input.setAttribute("aria-label", label);
  const readout = h("output", "cw-readout");
  const el = h("label", "cw-control cw-slider", { title: opts.title || "" },
    [h("span", "cw-label", { text }), input, readout]);
  const toValue = (u) => {
    const v = log ? 10 ** u : u;
    return opts.bounds ? Math.min(opts.bounds[1], Math.max(opts.bounds[0], v)) : v;
  };
  const toUnits = (v) => (log ? Math.log10(v) : v);
  let current = null;
  const emit = (u, grid) => {
    const v = toValue(snap(u, grid, min, max));
    if (v !== current) onChange(v);
  };
  input.addEventListener("input", () => emit(input.valueAsNumber, step));
  input.addEventListener("keydown", (e) => {
    const key = e.key;
    const dir = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[key];
    if (dir === undefined && key !== "Home" && key !== "End") return;
    e.preventDefault();
    if (key === "Home") return emit(min, step);
    if (key === "End") return emit(max, step);
    // the next grid point in that direction (from a value between grid points, the nearest one)
    const u = current === null ? input.valueAsNumber : toUnits(current);
    const grid = e.shiftKey ? fine : step;
    const at = u / grid;
    emit((dir > 0 ? Math.floor(at + 1e-9) : Math.ceil(at - 1e-9)) * grid + dir * grid, grid);
  });
  return {
    el, input,
    /** Show the model's value (the slider never changes the model by being shown). */
    set(v) {
      current = v;
      input.value = String(toUnits(v));
      readout.textContent = format(v);
    },
    /** A new range (the shown step runs to the step count). */
    setRange(lo, hi) {
      min = lo;
      max = hi;
      input.min = String(lo);
      input.max = String(hi);
    },
  };
}

function checkbox(label, onChange) {
  const input = h("input", "", { type: "checkbox" });
  input.addEventListener("change", () => onChange(input.checked));
  const el = h("label", "cw-control cw-check", {}, [input, h("span", "", { text: label })]);
  return { el, input, set(v) { input.checked = !!v; } };
}

/** A number box showing the value rounded to `decimals`; it commits on change (Enter or leaving). */
function numberBox(label, { step = 0.1, decimals = 3, min, max, integer = false, onChange }) {
  const input = h("input", "", { type: "number", step: String(step) });
  if (min !== undefined) input.min = String(min);
  if (max !== undefined) input.max = String(max);
  input.setAttribute("aria-label", label);
  input.addEventListener("change", () => {
    let v = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(v)) return;
    if (integer) v = Math.round(v);
    if (min !== undefined) v = Math.max(min, v);
    if (max !== undefined) v = Math.min(max, v);
    onChange(v);
  });
  const el = h("label", "cw-control cw-number", {}, [h("span", "cw-label", { text: label }), input]);
  return {
    el, input,
    set(v) {
      if (document.activeElement === input) return; // do not rewrite what the reader is typing
      input.value = integer ? String(v) : String(Number(v.toFixed(decimals)));
    },
  };
}

function button(label, onClick, title = "") {
  const el = h("button", "cw-button", { type: "button", text: label, title });
  el.addEventListener("click", onClick);
  return el;
}

/** The figure's canvas: CSS size follows the output width (at least MIN_WIDTH); pixels follow dpr. */
const MIN_WIDTH = 560;

function sizeCanvas(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr), hh = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== hh) {
    canvas.width = w;
    canvas.height = hh;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; // a white figure, as matplotlib's, also under a dark theme
  ctx.fillRect(0, 0, width, height);
  return { ctx, dpr };
}

/** Bytes from the model (DataView, ArrayBuffer, typed array or a list) as a typed array. */
function typedArray(value, Type) {
  if (!value) return new Type(0);
  if (Array.isArray(value)) return Type.from(value);
  const buffer = value.buffer || value;
  const offset = value.byteOffset || 0;
  const length = value.byteLength !== undefined ? value.byteLength : buffer.byteLength;
  if (offset % Type.BYTES_PER_ELEMENT === 0) return new Type(buffer, offset, length / Type.BYTES_PER_ELEMENT);
  return new Type(buffer.slice(offset, offset + length));
}

/**
 * The life of one view: listens to the traits it shows, coalesces every change into one
 * draw per display frame (requestAnimationFrame), follows the output's width
 * (ResizeObserver) and removes all of it when the view goes away. draw() reads the
 * whole model state each time, so the order of changes never matters.
 */
function createView(model, el, className, traits, build) {
  injectStyle();
  const root = h("div", "cw " + className);
  el.appendChild(root);
  const view = {
    model, root, width: 0, disposed: false,
    stats: { draws: 0, lastDrawMs: 0, drawTimes: [] },
    onDispose: [],
  };
  let pending = 0;
  const run = () => {
    pending = 0;
    if (view.disposed) return;
    const width = Math.max(MIN_WIDTH, Math.floor(root.clientWidth || 0));
    if (!root.isConnected || !root.clientWidth) return; // not laid out yet: the observer calls again
    view.width = width;
    const t0 = performance.now();
    try {
      view.draw();
      view.error.textContent = "";
    } catch (err) {
      view.error.textContent = `This figure failed to draw: ${err && err.message}`;
      throw err;
    } finally {
      const ms = performance.now() - t0;
      view.stats.draws += 1;
      view.stats.lastDrawMs = ms;
      view.stats.drawTimes.push(ms);
      if (view.stats.drawTimes.length > 500) view.stats.drawTimes.shift();
    }
  };
  view.schedule = () => {
    if (!pending && !view.disposed) pending = requestAnimationFrame(run);
  };
  /** Draw now if a draw is pending (used inside an animation frame). */
  view.flush = () => {
    if (pending) {
      cancelAnimationFrame(pending);
      run();
    }
  };
  /**
   * Set traits from a control: one model update, one message to the kernel, and the reader's
   * own change drawn at once (it shows at the next paint; changes from elsewhere wait for
   * the next animation frame and are drawn together).
   */
  view.set = (changes) => {
    for (const [k, v] of Object.entries(changes)) model.set(k, v);
    model.save_changes();
    view.schedule();
    view.flush();
  };
  const events = traits.map((name) => `change:${name}`);
  for (const ev of events) model.on(ev, view.schedule);
  const observer = new ResizeObserver(() => {
    if (Math.max(MIN_WIDTH, Math.floor(root.clientWidth)) !== view.width) view.schedule();
  });
  observer.observe(root);
  view.error = h("div", "cw-error");
  build(view);
  root.appendChild(view.error);
  root.__courseWidget = view; // for tests: stats and what was drawn
  view.schedule();
  return () => {
    view.disposed = true;
    if (pending) cancelAnimationFrame(pending);
    observer.disconnect();
    for (const ev of events) model.off(ev, view.schedule);
    for (const fn of view.onDispose) fn();
    root.remove();
  };
}

// ---------------------------------------------------------------------------------------
// The trajectory explorer: GD, momentum and Nesterov on one surface.
// Traits: surface, surface_specs, lr, momentum, steps, start_x, start_y, methods, frame,
// tol, play_fps.
// ---------------------------------------------------------------------------------------

const EXPLORER_TRAITS = ["surface", "surface_specs", "lr", "lr_range", "momentum", "steps", "start_x", "start_y",
  "methods", "frame", "tol", "play_fps"];

/** One readout line for one run (lessons_lib.widgets.explorer.describe). */
export function describeRun(method, run, spec, steps, tol) {
  const label = METHOD_STYLE[method].label;
  if (run.divergedAt !== null) return `${label}: diverged at step ${run.divergedAt}`;
  const final = run.losses[steps];
  if (spec.f_min === null) return `${label}: final loss ${formatG(final, 3)} (this surface has no minimum)`;
  if (final > run.losses[0]) {
    return `${label}: growing, the loss rose from ${formatG(run.losses[0], 4)} to ${formatG(final, 4)} `
      + `in ${steps} steps: diverging, though it has not yet left the square `
      + `|x|, |y| <= ${formatG(spec.escape_radius)} where divergence is declared`;
  }
  const reached = stepsTo(run.losses, spec.f_min, tol);
  const where = reached !== null ? `reached f - f* <= ${formatG(tol)} at step ${reached}`
    : `not within ${formatG(tol)} of the minimum after ${steps} steps`;
  return `${label}: final loss ${formatG(final, 4)} (f - f* = ${formatE(final - spec.f_min, 2)}); ${where}`;
}

/** The explorer's state as drawn: the runs of the ticked methods and the readout. */
export function explorerState(get) {
  const specs = get("surface_specs");
  const spec = specs[get("surface")];
  const steps = get("steps");
  const start = [get("start_x"), get("start_y")];
  const ticked = get("methods") || [];
  const methods = METHODS.filter((m) => ticked.includes(m));
  const runs = {};
  for (const m of methods) runs[m] = simulate(spec, start, m, get("lr"), m === "gd" ? 0.0 : get("momentum"), steps);
  const lines = methods.map((m) => describeRun(m, runs[m], spec, steps, get("tol")));
  return { spec, steps, start, methods, runs, lines: lines.length ? lines : ["(no method selected)"],
    frame: Math.min(Math.max(0, get("frame")), steps) };
}

function explorerLayout(W) {
  if (W >= 820) {
    const H = Math.round(Math.min(520, Math.max(330, W * 0.42)));
    const split = Math.round(W * 0.54);
    return { H, path: { x: 58, y: 24, w: split - 58 - 10, h: H - 24 - 46 },
      loss: { x: split + 64, y: 24, w: W - split - 64 - 14, h: H - 24 - 46 } };
  }
  const h1 = Math.round(Math.min(480, Math.max(300, W * 0.62))), h2 = Math.round(Math.max(220, W * 0.36));
  return { H: h1 + h2, path: { x: 58, y: 24, w: W - 58 - 14, h: h1 - 24 - 46 },
    loss: { x: 64, y: h1 + 24, w: W - 64 - 14, h: h2 - 24 - 46 } };
}

function renderExplorer(model, el) {
  return createView(model, el, "cw-explorer", EXPLORER_TRAITS, (view) => {
    const get = (k) => model.get(k);
    const contours = new Layer();
    let play = null;

    const surfaceSelect = h("select", "", {});
    surfaceSelect.setAttribute("aria-label", "surface");
    surfaceSelect.addEventListener("change", () => {
      const spec = get("surface_specs")[surfaceSelect.value];
      stopPlay();
      view.set({ surface: surfaceSelect.value, start_x: spec.start[0], start_y: spec.start[1],
        lr: spec.default_lr, frame: get("steps") });
    });
    const boxes = {};
    for (const m of METHODS) {
      boxes[m] = checkbox(METHOD_STYLE[m].label, (on) => {
        const now = get("methods") || [];
        view.set({ methods: METHODS.filter((k) => (k === m ? on : now.includes(k))) });
      });
    }
    const lrRange = get("lr_range");
    const lr = slider({ label: "lr", text: "\u03b7", min: Math.log10(lrRange[0]), max: Math.log10(lrRange[1]), step: 0.01,
      fine: 0.001, log: true, bounds: lrRange, format: (v) => formatG(v, 3), onChange: (v) => view.set({ lr: v }),
      title: "learning rate (log scale)" });
    const beta = slider({ label: "momentum", text: "\u03b2", min: 0, max: 0.99, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ momentum: v }),
      title: "momentum β: arrow keys 0.01, with Shift 0.001" });
    const steps = slider({ label: "steps", min: 10, max: 2000, step: 10, fine: 1, format: String,
      onChange: (v) => { stopPlay(); view.set({ steps: v, frame: v }); } });
    const sx = numberBox("start x", { onChange: (v) => view.set({ start_x: v }) });
    const sy = numberBox("start y", { onChange: (v) => view.set({ start_y: v }) });
    const playButton = button("\u25b6 Play", () => (play ? stopPlay() : startPlay()), "animate the steps");
    const frame = slider({ label: "show step", min: 0, max: 300, step: 1, format: String,
      onChange: (v) => { stopPlay(); view.set({ frame: v }); } });

    const title = h("div", "cw-title");
    const canvas = h("canvas", "cw-canvas");
    const readout = h("div", "cw-readout-box");
    view.root.append(
      h("div", "cw-row", {}, [h("label", "cw-control", {}, [h("span", "cw-label", { text: "surface" }), surfaceSelect]),
        ...METHODS.map((m) => boxes[m].el)]),
      h("div", "cw-row", {}, [lr.el, beta.el, steps.el]),
      h("div", "cw-row", {}, [sx.el, sy.el, playButton, frame.el]),
      h("div", "cw-help", { text: "Click on the contour plot to move the start point. Press Play to animate the steps." }),
      title, canvas, readout);

    // Play: the shown step advances at the nominal frame rate (play_fps), several steps a
    // picture when a run is long, so that a run plays in at most about 12 s. The pictures due
    // follow the clock; at most one is drawn per display frame, so a late frame is caught up on
    // the next ones and no picture is skipped.
    function startPlay() {
      const n = get("steps");
      const fps = get("play_fps") || 25;
      const first = get("frame") >= n ? 0 : get("frame");
      const per = Math.max(1, Math.ceil(n / (fps * 12)));
      play = { t0: performance.now(), first, per, fps, n, shown: 0, frames: 0, raf: 0 };
      playButton.textContent = "\u275a\u275a Pause";
      const tick = (now) => {
        if (!play) return;
        if (play.shown < Math.floor((now - play.t0) * play.fps / 1000)) play.shown += 1;
        const k = Math.min(play.n, play.first + play.shown * play.per);
        if (k !== get("frame")) {
          model.set("frame", k);
          play.frames += 1;
          view.flush();
        }
        if (k >= play.n) return stopPlay();
        play.raf = requestAnimationFrame(tick);
      };
      model.set("frame", first);
      view.schedule();
      play.raf = requestAnimationFrame(tick);
    }
    function stopPlay() {
      if (!play) return;
      cancelAnimationFrame(play.raf);
      view.stats.play = { frames: play.frames, seconds: (performance.now() - play.t0) / 1000 };
      play = null;
      playButton.textContent = "\u25b6 Play";
      model.save_changes();
    }
    view.onDispose.push(() => { if (play) cancelAnimationFrame(play.raf); play = null; });

    // A click on the contour panel moves the start (without scrolling or focusing anything).
    const onPointer = (e) => {
      if (!view.pathPanel) return;
      const r = canvas.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      if (!view.pathPanel.contains(px, py)) return;
      e.preventDefault();
      const [x, y] = view.pathPanel.data(px, py);
      view.set({ start_x: Number(x.toFixed(3)), start_y: Number(y.toFixed(3)) });
    };
    canvas.addEventListener("pointerdown", onPointer);
    canvas.addEventListener("mousedown", (e) => e.preventDefault());

    view.draw = () => {
      const st = explorerState(get);
      const { spec, methods, runs } = st;
      const name = get("surface");
      // controls show the model
      const names = Object.keys(get("surface_specs"));
      if (surfaceSelect.options.length !== names.length) {
        surfaceSelect.replaceChildren(...names.map((n) => h("option", "", { value: n, text: n })));
      }
      surfaceSelect.value = name;
      for (const m of METHODS) boxes[m].set(methods.includes(m));
      lr.set(get("lr"));
      beta.set(get("momentum"));
      steps.set(st.steps);
      sx.set(st.start[0]);
      sy.set(st.start[1]);
      frame.setRange(0, st.steps);
      frame.set(st.frame);
      title.textContent = `${name}: ${spec.title}`;

      const W = view.width, L = explorerLayout(W);
      const { ctx, dpr } = sizeCanvas(canvas, W, L.H);
      const pathPanel = new Panel(L.path, spec.xlim, spec.ylim, { equal: true });
      view.pathPanel = pathPanel;
      const bg = contours.get(`${name}|${W}|${L.H}|${dpr}`, W, L.H, dpr, (c) => {
        paintContours(c, pathPanel, `explorer|${name}`, surfaceFunctions(spec).f, spec.f_min, spec.minima, 25, 160);
        drawAxes(c, pathPanel, { xlabel: spec.axes[0], ylabel: spec.axes[1], title: "paths on the contours" });
      });
      ctx.drawImage(bg, 0, 0, W, L.H);

      // paths up to the shown step, a dot per iterate, the last one larger
      const k1 = st.frame + 1;
      ctx.save();
      pathPanel.clip(ctx);
      for (const m of methods) {
        const p = runs[m].points, style = METHOD_STYLE[m];
        ctx.strokeStyle = style.color;
        ctx.fillStyle = style.color;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(style.dash);
        polyline(ctx, pathPanel, k1, (k) => p[2 * k], (k) => p[2 * k + 1]);
        if (k1 <= 400) {
          for (let k = 0; k < k1; k++) {
            if (!Number.isFinite(p[2 * k])) break;
            ctx.fillRect(pathPanel.px(p[2 * k]) - 1.5, pathPanel.py(p[2 * k + 1]) - 1.5, 3, 3);
          }
        }
      }
      for (const m of methods) {
        const p = runs[m].points;
        let last = st.frame;
        while (last > 0 && !Number.isFinite(p[2 * last])) last -= 1;
        marker(ctx, "circle", pathPanel.px(p[2 * last]), pathPanel.py(p[2 * last + 1]), 10, METHOD_STYLE[m].color);
      }
      marker(ctx, "square", pathPanel.px(st.start[0]), pathPanel.py(st.start[1]), 9, "#000", "#fff");
      ctx.restore();
      const entries = methods.map((m) => ({ label: METHOD_STYLE[m].label,
        draw: lineSample(METHOD_STYLE[m].color, METHOD_STYLE[m].dash) }));
      entries.push({ label: "start", draw: (c, x, y) => marker(c, "square", x, y, 9, "#000", "#fff") });
      if (spec.minima.length) entries.push({ label: "minimum", draw: (c, x, y) => marker(c, "star", x, y, 13, COLORS.yellow) });
      legend(ctx, entries, pathPanel.rect.x + pathPanel.rect.w - 4, pathPanel.rect.y + 4, "right");

      // loss against step: f - f* on a log scale (f itself when the surface has no minimum)
      const f0 = surfaceFunctions(spec).f(st.start[0], st.start[1]);
      const hasMin = spec.f_min !== null;
      const lossPanel = hasMin
        ? new Panel(L.loss, [0, st.steps], [1e-14, Math.max(f0 - spec.f_min, 1e-3) * 30.0], { ylog: true })
        : new Panel(L.loss, [0, st.steps], [f0 - 25.0, f0 + 5.0]);
      drawAxes(ctx, lossPanel, { xlabel: "step k", ylabel: hasMin ? "f(x\u2096) \u2212 f*" : "f(x\u2096)",
        title: "loss against step" });
      ctx.save();
      lossPanel.clip(ctx);
      for (const m of methods) {
        const loss = runs[m].losses, style = METHOD_STYLE[m];
        ctx.strokeStyle = style.color;
        ctx.lineWidth = 1.8;
        ctx.setLineDash(style.dash);
        polyline(ctx, lossPanel, k1, (k) => k, hasMin ? (k) => Math.max(loss[k] - spec.f_min, 1e-300) : (k) => loss[k]);
      }
      if (st.frame < st.steps) {
        ctx.strokeStyle = "#999";
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(lossPanel.px(st.frame), lossPanel.rect.y);
        ctx.lineTo(lossPanel.px(st.frame), lossPanel.rect.y + lossPanel.rect.h);
        ctx.stroke();
      }
      ctx.restore();

      readout.replaceChildren(...st.lines.map((line) => h("div", "", { text: line })));
      view.drawn = { surface: name, title: title.textContent, legend: entries.map((e) => e.label),
        methods, frame: st.frame, steps: st.steps, lines: st.lines, canvas: [canvas.width, canvas.height],
        pathRect: pathPanel.rect, lossRect: lossPanel.rect };
      view.root.dataset.legend = entries.map((e) => e.label).join("|");
    };
  });
}

// ---------------------------------------------------------------------------------------
// The rate map: heavy-ball momentum's (or Nesterov's) rate over (lr, beta) for eigenvalues
// mu = 1/kappa and L = 1, or where each is faster; and the iterates of the selected pair on
// 0.5 (mu x^2 + L y^2). Traits: kappa, lr, beta, steps, start_x, start_y, grid, method.
// ---------------------------------------------------------------------------------------

const RATE_MAP_TRAITS = ["kappa", "lr", "beta", "steps", "start_x", "start_y", "grid", "method"];
export const RATE_METHODS = ["momentum", "nesterov", "compare"];
const RATE_METHOD_LABELS = { momentum: "heavy ball (momentum)", nesterov: "Nesterov", compare: "compare both" };
export const BETA_MAX = 0.999;
const LR_MIN = 0.001;
const SHRINK = 1e-6;
const RATE_TICKS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999];
// viridis at 17 evenly spaced points (matplotlib), reversed for the map: dark is fast
const VIRIDIS = "44015448186a472d7b4240863b528b33638d2c728e26828e21918c1fa08828ae803fbc735ec96284d44baddc30d8e219fde725"
  .match(/.{6}/g).map((hex) => [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)));
// the compare map: heavy ball faster, Nesterov faster, tie, both diverge (rate_map.COMPARE_RGB)
const COMPARE_RGB = [[213, 94, 0], [0, 158, 115], [240, 228, 66], [200, 200, 200]];

/** Colour position of a rate: -log10(1 - rho) / 3 (equal steps are equal factors in steps needed). */
function rateNorm(rate) {
  return -Math.log10(1.0 - Math.min(Math.max(rate, 0.0), BETA_MAX)) / 3.0;
}

const GREY = [200, 200, 200];

/** viridis at t in [0, 1], as [r, g, b]. */
function viridis(t) {
  const u = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(u), VIRIDIS.length - 2), f = u - i;
  return VIRIDIS[i].map((c, j) => Math.round(c + (VIRIDIS[i + 1][j] - c) * f));
}

/** viridis_r at t in [0, 1], as [r, g, b]. */
function rateColor(t) {
  return viridis(1 - Math.min(Math.max(t, 0), 1));
}

/** The compare map's colour (rate_map.compare_colors): the faster's, paler the closer the two are. */
function compareColor(code, ratio) {
  const base = COMPARE_RGB[code];
  const strength = code < 2 ? 0.25 + 0.75 * (1.0 - (Number.isNaN(ratio) ? 1.0 : ratio)) : 1.0;
  return base.map((c) => Math.round(255 - strength * (255 - c)));
}

/** The method's rate over the grid's cell centres: Float64Array, row r is beta_r, column c is lr_c. */
export function rateGrid(mu, L, n, method = "momentum") {
  const rate = method === "nesterov" ? nesterovRate : momentumRate;
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const beta = (r + 0.5) / n;
    for (let c = 0; c < n; c++) out[r * n + c] = rate((c + 0.5) / n * LR_MAX, beta, [mu, L]);
  }
  return out;
}

/** compareRates over the grid's cell centres: {code: Uint8Array, ratio: Float64Array}, rows are beta. */
export function compareGrid(mu, L, n) {
  const code = new Uint8Array(n * n), ratio = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const beta = (r + 0.5) / n;
    for (let c = 0; c < n; c++) {
      const v = compareRates((c + 0.5) / n * LR_MAX, beta, mu, L);
      code[r * n + c] = v.code;
      ratio[r * n + c] = v.ratio;
    }
  }
  return { code, ratio };
}

/** What a run did, as rate_map.RateMap._run_text says it. */
function runText(run, spec, errors, steps) {
  if (run.divergedAt !== null) return `diverged at step ${run.divergedAt} (|x| passed ${formatG(spec.escape_radius)})`;
  for (let k = 0; k <= steps; k++) if (errors[k] <= SHRINK * errors[0]) return `error below 1e-6 |x\u2080| at step ${k}`;
  return `error ${formatE(errors[steps] / errors[0], 2)} |x\u2080| after ${steps} steps`;
}

const plural = (n) => (n !== 1 ? "s" : "");

/** The rate map's state as drawn: theory and the runs of the selected pair, and the readout. */
export function rateMapState(get) {
  const kappa = get("kappa"), lr = get("lr"), beta = get("beta"), steps = get("steps");
  const method = get("method") || "momentum";
  const shown = method === "compare" ? ["momentum", "nesterov"] : [method];
  const L = 1.0, mu = L / kappa;
  const spec = quadraticSpec(mu, L);
  const start = [get("start_x"), get("start_y")];
  const runs = {}, errors = {}, rates = {};
  for (const m of shown) {
    runs[m] = simulate(spec, start, m, lr, beta, steps);
    errors[m] = new Float64Array(steps + 1);
    for (let k = 0; k <= steps; k++) errors[m][k] = Math.hypot(runs[m].points[2 * k], runs[m].points[2 * k + 1]);
    rates[m] = m === "nesterov" ? nesterovRate(lr, beta, [mu, L]) : momentumRate(lr, beta, [mu, L]);
  }
  const first = shown[0];
  const optimum = optimumOf(first, mu, L), optimumGd = optimalGd(mu, L);
  const lines = [];
  const pair = `lr\u00b7L = ${formatF(lr, 3)}, \u03b2 = ${formatF(beta, 3)}, \u03ba = ${formatG(kappa, 4)}`;
  if (method === "compare") {
    const { code } = compareRates(lr, beta, mu, L);
    const verdict = ["the heavy ball is faster here", "Nesterov is faster here",
      `a tie (the rates agree to ${formatG(TIE_RTOL)})`, "both diverge"][code];
    lines.push(`${pair}: heavy ball \u03c1 = ${formatF(rates.momentum, 4)}, Nesterov \u03c1 = ${formatF(rates.nesterov, 4)}: ${verdict}`);
    const [nH, nN] = [stepsToShrink(rates.momentum), stepsToShrink(rates.nesterov)].map((n) => (n === null ? "diverges" : String(n)));
    lines.push(`steps to shrink the error by 1e-6 (theory): heavy ball ${nH}, Nesterov ${nN}`);
    lines.push(`the runs: heavy ball ${runText(runs.momentum, spec, errors.momentum, steps)}; `
      + `Nesterov ${runText(runs.nesterov, spec, errors.nesterov, steps)}`);
    lines.push(`best pairs for \u03ba = ${formatG(kappa, 4)}: ` + [["heavy ball", "momentum"], ["Nesterov", "nesterov"]].map(([name, m]) => {
      const [lo, bo, ro] = optimumOf(m, mu, L), n = stepsToShrink(ro);
      return `${name} lr\u00b7L = ${formatF(lo, 4)}, \u03b2 = ${formatF(bo, 4)}, \u03c1 = ${formatF(ro, 4)} (${n} step${plural(n)})`;
    }).join("; "));
  } else {
    const rate = rates[method];
    const regime = method === "nesterov" ? nesterovRegime : momentumRegime;
    const radius = method === "nesterov" ? nesterovRate : momentumRate;
    lines.push(`${pair}: ${method === "nesterov" ? "Nesterov's rate" : "rate"} \u03c1 = ${formatF(rate, 4)} `
      + "(theory: largest spectral radius over \u03bb = \u03bc and \u03bb = L)");
    lines.push([["\u03bc", mu], ["L", L]].map(([name, lam]) => `\u03bb = ${name} = ${formatG(lam, 4)}: `
      + `${regime(lr, beta, lam)} (radius ${formatF(radius(lr, beta, [lam]), 4)})`).join("; "));
    const n = stepsToShrink(rate);
    lines.push(n === null
      ? `diverges: \u03c1 = ${formatF(rate, 4)} \u2265 1, the error grows by about ${formatG(rate, 4)}\u00d7 per step`
      : `steps to shrink the error by 1e-6 (theory, ceil(log 1e-6 / log \u03c1)): ${n}`);
    lines.push(`the run: ${runText(runs[method], spec, errors[method], steps)}`);
    const nO = stepsToShrink(optimum[2]), nG = stepsToShrink(optimumGd[1]);
    const best = method === "momentum" ? "optimum" : "Nesterov's best (found numerically)";
    lines.push(`${best} for \u03ba = ${formatG(kappa, 4)}: lr\u00b7L = ${formatF(optimum[0], 4)}, `
      + `\u03b2 = ${formatF(optimum[1], 4)}, \u03c1 = ${formatF(optimum[2], 4)} (theory: ${nO} step${plural(nO)}); `
      + `best GD: lr\u00b7L = ${formatF(optimumGd[0], 4)}, \u03c1 = ${formatF(optimumGd[1], 4)} `
      + `(theory: ${nG} step${plural(nG)})`);
    if (method === "nesterov") {
      const rH = optimalMomentum(mu, L)[2], nH = stepsToShrink(rH);
      lines.push(`for comparison, the heavy ball's optimum: \u03c1 = ${formatF(rH, 4)} (theory: ${nH} step${plural(nH)})`);
    }
  }
  return { kappa, lr, beta, steps, mu, L, spec, start, method, shown, runs, errors, rates,
    rate: rates[first], run: runs[first], optimum, optimumGd, lines };
}

function rateMapLayout(W) {
  if (W >= 900) {
    const H = Math.round(Math.min(600, Math.max(440, W * 0.5)));
    const split = Math.round(W * 0.56);
    const mapH = H - 30 - 104;
    const rightH = (H - 30 - 2 * 46) / 2;
    return { H, map: { x: 60, y: 30, w: split - 60 - 84, h: mapH }, legendY: 30 + mapH + 44,
      path: { x: split + 58, y: 30, w: W - split - 58 - 14, h: rightH },
      error: { x: split + 58, y: 30 + rightH + 70, w: W - split - 58 - 14, h: rightH - 24 } };
  }
  const mapH = Math.round(Math.min(420, Math.max(300, W * 0.58)));
  const rowY = 30 + mapH + 150;
  const rowH = Math.round(Math.max(200, W * 0.36));
  const half = Math.round(W / 2);
  return { H: rowY + rowH + 46, map: { x: 60, y: 30, w: W - 60 - 84, h: mapH }, legendY: 30 + mapH + 44,
    path: { x: 58, y: rowY, w: half - 58 - 12, h: rowH },
    error: { x: half + 58, y: rowY, w: W - half - 58 - 14, h: rowH } };
}

const LABELS = new Map(); // "method|mu|L" -> regimeLabelPositions (dragging kappa back and forth)
const SCRATCH = typeof document === "undefined" ? null : document.createElement("canvas"); // the rate cells
// viridis_r at 1024 points of the colour scale
const RATE_LUT = Array.from({ length: 1024 }, (_, i) => rateColor(i / 1023));
const OPTIMUM_MARKER = { momentum: "star", nesterov: "plus" };

/** The cells of the map, one per grid point, drawn into the panel (nearest neighbour). */
function paintCells(ctx, panel, n, colorAt) {
  const cells = SCRATCH;
  cells.width = n;
  cells.height = n;
  const cctx = cells.getContext("2d");
  const img = cctx.createImageData(n, n);
  const data = img.data;
  for (let r = 0; r < n; r++) {
    const beta = (r + 0.5) / n;
    for (let c = 0; c < n; c++) {
      const rgb = colorAt((c + 0.5) / n * LR_MAX, beta);
      const o = 4 * ((n - 1 - r) * n + c); // image rows go down, beta goes up
      data[o] = rgb[0];
      data[o + 1] = rgb[1];
      data[o + 2] = rgb[2];
      data[o + 3] = 255;
    }
  }
  cctx.putImageData(img, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, panel.rect.x, panel.rect.y, panel.rect.w, panel.rect.h);
  ctx.restore();
}

function regionNames(ctx, panel, mu, L, method) {
  ctx.font = BOLD_FONT;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const key = `${method}|${mu}|${L}`;
  if (!LABELS.has(key)) {
    LABELS.set(key, regimeLabelPositions(mu, L, 160, method));
    if (LABELS.size > 64) LABELS.delete(LABELS.keys().next().value);
  }
  for (const [name, where] of Object.entries(LABELS.get(key))) {
    if (!where) continue;
    const [tx, ty] = [panel.px(where.text[0]), panel.py(where.text[1])];
    const [qx, qy] = [panel.px(where.point[0]), panel.py(where.point[1])];
    if (where.text !== where.point) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(tx, ty);
      ctx.lineTo(qx, qy);
      ctx.stroke();
      const a = Math.atan2(qy - ty, qx - tx);
      ctx.beginPath();
      ctx.moveTo(qx, qy);
      ctx.lineTo(qx - 8 * Math.cos(a - 0.35), qy - 8 * Math.sin(a - 0.35));
      ctx.lineTo(qx - 8 * Math.cos(a + 0.35), qy - 8 * Math.sin(a + 0.35));
      ctx.closePath();
      ctx.fillStyle = "#000";
      ctx.fill();
    }
    const w = ctx.measureText(name).width + 8;
    ctx.fillStyle = "rgba(255,255,255,0.75)";
    ctx.fillRect(tx - w / 2, ty - 9, w, 18);
    ctx.fillStyle = "#000";
    ctx.fillText(name, tx, ty);
  }
}

function paintRateMap(ctx, panel, mu, L, n, kappa, method) {
  // the cells: the method's rate (grey where rate >= 1: divergence), or which method is faster;
  // the rates are momentumRate / nesterovRate (lr, beta, [mu, L]) written out (as rateGrid and
  // compareGrid, which the tests check)
  if (method === "compare") {
    paintCells(ctx, panel, n, (lr, beta) => { const v = compareRates(lr, beta, mu, L); return compareColor(v.code, v.ratio); });
  } else {
    const rate = method === "nesterov" ? nesterovRate2 : momentumRate2;
    paintCells(ctx, panel, n, (lr, beta) => {
      const r = rate(lr, beta, mu, L);
      return r >= 1.0 ? GREY : RATE_LUT[Math.round(Math.min(1, rateNorm(r)) * 1023)];
    });
  }
  ctx.save();
  panel.clip(ctx);
  if (method !== "compare") {
    // where the two roots coincide, for lam = mu and lam = L: the heavy ball's critical damping
    // beta = (1 - sqrt(lr lam))^2 (lr lam < 4), Nesterov's beta = (1 - sqrt(lr lam)) / (1 + sqrt(lr lam)) (lr lam <= 1)
    for (const [lam, dash] of [[mu, [6, 4]], [L, [2, 3]]]) {
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.6;
      ctx.setLineDash(dash);
      const top = method === "nesterov" ? 1.0 : 4.0;
      const lrs = Array.from({ length: 801 }, (_, i) => i / 800 * LR_MAX).filter((v) => v * lam < top || (top === 1.0 && v * lam === 1.0));
      const curve = method === "nesterov" ? (h) => (1.0 - Math.sqrt(h)) / (1.0 + Math.sqrt(h)) : (h) => (1.0 - Math.sqrt(h)) ** 2;
      polyline(ctx, panel, lrs.length, (k) => lrs[k], (k) => curve(lrs[k] * lam));
    }
  } else {
    ctx.strokeStyle = `rgb(${COMPARE_RGB[2].join(",")})`; // beta = 0: both are gradient descent, a tie
    ctx.lineWidth = 6;
    polyline(ctx, panel, 2, (k) => k * LR_MAX, () => 0.0);
  }
  // the divergence edges: the heavy ball's lr L = 2 + 2 beta, Nesterov's lr L = (2 + 2 beta) / (1 + 2 beta)
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 1.4;
  if (method !== "nesterov") {
    ctx.setLineDash([]);
    polyline(ctx, panel, 201, (k) => 2.0 + 2.0 * (k / 200), (k) => k / 200);
  }
  if (method !== "momentum") {
    ctx.setLineDash(method === "compare" ? [5, 2] : []);
    polyline(ctx, panel, 200, (k) => nesterovEdge(k / 200), (k) => k / 200);
  }
  ctx.setLineDash([]);
  if (method !== "compare") regionNames(ctx, panel, mu, L, method);
  ctx.restore();
  const [lrG] = optimalGd(mu, L);
  if (method !== "compare") marker(ctx, "diamond", panel.px(lrG), panel.py(0.0), 11, COLORS.blue);
  for (const m of method === "compare" ? ["momentum", "nesterov"] : [method]) {
    const [lrO, betaO] = optimumOf(m, mu, L);
    marker(ctx, OPTIMUM_MARKER[m], panel.px(lrO), panel.py(betaO), 19, COLORS.yellow);
  }
  const who = { momentum: "momentum's rate \u03c1", nesterov: "Nesterov's rate \u03c1", compare: "where each is faster" }[method];
  drawAxes(ctx, panel, { xlabel: "learning rate \u03b7\u00b7L  (L = 1, so this is \u03b7)", ylabel: "momentum \u03b2",
    title: `${who}, eigenvalues in [1/\u03ba, 1], \u03ba = ${formatG(kappa, 4)}` });
  const bx = panel.rect.x + panel.rect.w + 14, by = panel.rect.y, bh = panel.rect.h;
  ctx.font = SMALL_FONT;
  ctx.fillStyle = "#222";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  if (method === "compare") {
    // the key of the colours, in the colour bar's place
    const key = [[1, "Nesterov"], [0, "heavy ball"], [2, "tie"], [3, "diverge"]];
    key.forEach(([code, label], i) => {
      const y = by + 10 + 44 * i;
      ctx.fillStyle = `rgb(${COMPARE_RGB[code].join(",")})`;
      ctx.fillRect(bx, y, 12, 30);
      ctx.fillStyle = "#222";
      ctx.save();
      ctx.translate(bx + 18, y + 15);
      ctx.fillText(label, 0, 0);
      ctx.restore();
    });
    ctx.fillText("faster:", bx, by + 2);
    ctx.fillText("pale:", bx, by + 10 + 44 * 4 + 6);
    ctx.fillText("close", bx, by + 10 + 44 * 4 + 20);
    return;
  }
  const bar = ctx.createLinearGradient(0, by + bh, 0, by);
  for (let i = 0; i <= 16; i++) bar.addColorStop(i / 16, `rgb(${rateColor(i / 16).join(",")})`);
  ctx.fillStyle = bar;
  ctx.fillRect(bx, by, 12, bh);
  ctx.fillStyle = "#222";
  for (const t of RATE_TICKS) ctx.fillText(String(t), bx + 16, by + bh - rateNorm(t) * bh);
  ctx.save();
  ctx.translate(bx + 58, by + bh / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("rate \u03c1 (grey: \u03c1 \u2265 1, diverges)", 0, 0);
  ctx.restore();
}

function rateMapLegend(ctx, x, y, width, method) {
  const selected = (c, px, py) => marker(c, "circle", px, py, 10, "#fff", METHOD_STYLE[method === "nesterov" ? "nesterov" : "momentum"].color, 2.5);
  const items = method === "compare" ? [
    ["heavy ball's edge \u03b7\u00b7L = 2 + 2\u03b2", lineSample("#000")],
    ["Nesterov's edge \u03b7\u00b7L = (2 + 2\u03b2)/(1 + 2\u03b2)", lineSample("#000", [5, 2])],
    ["\u03b2 = 0: both are GD (tie)", lineSample(`rgb(${COMPARE_RGB[2].join(",")})`, [], 5)],
    ["heavy ball's optimum", (c, px, py) => marker(c, "star", px, py, 14, COLORS.yellow)],
    ["Nesterov's best", (c, px, py) => marker(c, "plus", px, py, 14, COLORS.yellow)],
    ["selected", selected],
  ] : [
    [`${method === "nesterov" ? "double root" : "critical damping"} \u03bb = \u03bc`, lineSample("#fff", [6, 4], 1.6)],
    [`${method === "nesterov" ? "double root" : "critical damping"} \u03bb = L`, lineSample("#fff", [2, 3], 1.6)],
    [method === "nesterov" ? "\u03b7\u00b7L = (2 + 2\u03b2)/(1 + 2\u03b2) (edge)" : "\u03b7\u00b7L = 2 + 2\u03b2 (divergence edge)", lineSample("#000")],
    ["best GD (\u03b2 = 0)", (c, px, py) => marker(c, "diamond", px, py, 10, COLORS.blue)],
    [method === "nesterov" ? "Nesterov's best" : "optimum", (c, px, py) => marker(c, OPTIMUM_MARKER[method], px, py, 14, COLORS.yellow)],
    ["selected", selected],
  ];
  ctx.save();
  ctx.font = SMALL_FONT;
  const cols = width >= 600 ? 3 : 2;
  const colW = width / cols;
  ctx.fillStyle = "#bfbfbf";
  ctx.fillRect(x, y, width, 18 * Math.ceil(items.length / cols) + 6);
  items.forEach(([label, draw], i) => {
    const cx = x + (i % cols) * colW + 16, cy = y + 12 + 18 * Math.floor(i / cols);
    ctx.save();
    draw(ctx, cx, cy);
    ctx.restore();
    ctx.fillStyle = "#111";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(label, cx + 18, cy);
  });
  ctx.restore();
}

function renderRateMap(model, el) {
  return createView(model, el, "cw-rate-map", RATE_MAP_TRAITS, (view) => {
    const get = (k) => model.get(k);
    const mapLayer = new Layer(), pathLayer = new Layer();
    const methodSelect = h("select", "", {});
    methodSelect.setAttribute("aria-label", "map");
    methodSelect.append(...RATE_METHODS.map((m) => h("option", "", { value: m, text: RATE_METHOD_LABELS[m] })));
    methodSelect.addEventListener("change", () => view.set({ method: methodSelect.value }));
    const kappa = slider({ label: "\u03ba", min: 0, max: 3, step: 0.01, fine: 0.001, log: true, bounds: [1, 1000],
      format: (v) => formatG(v, 4), onChange: (v) => view.set({ kappa: v }), title: "condition number L/\u03bc (log scale)" });
    const lr = slider({ label: "lr (L = 1)", text: "\u03b7 (L = 1)", min: LR_MIN, max: LR_MAX, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ lr: v }), title: "arrow keys 0.01, with Shift 0.001" });
    const beta = slider({ label: "momentum \u03b2", min: 0, max: BETA_MAX, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ beta: v }), title: "arrow keys 0.01, with Shift 0.001" });
    const optimum = button("go to the optimum", () => {
      const [o, b] = optimumOf(get("method") === "nesterov" ? "nesterov" : "momentum", 1.0 / get("kappa"), 1.0);
      view.set({ lr: o, beta: b });
    }, "select the best (lr, \u03b2) of the shown method for this \u03ba (Polyak's when comparing)");
    const title = h("div", "cw-title");
    const canvas = h("canvas", "cw-canvas");
    const readout = h("div", "cw-readout-box");
    const help = h("div", "cw-help");
    view.root.append(h("div", "cw-row", {}, [h("label", "cw-control", {}, [h("span", "cw-label", { text: "map" }), methodSelect])]),
      h("div", "cw-row", {}, [kappa.el, lr.el, beta.el, optimum]), help, title, canvas, readout);

    const onPointer = (e) => {
      if (!view.mapPanel) return;
      const r = canvas.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      if (!view.mapPanel.contains(px, py)) return;
      e.preventDefault();
      const [u, v] = view.mapPanel.data(px, py);
      view.set({ lr: Math.min(Math.max(Number(u.toFixed(3)), LR_MIN), LR_MAX),
        beta: Math.min(Math.max(Number(v.toFixed(3)), 0.0), BETA_MAX) });
    };
    canvas.addEventListener("pointerdown", onPointer);
    canvas.addEventListener("mousedown", (e) => e.preventDefault());

    view.draw = () => {
      const st = rateMapState(get);
      methodSelect.value = st.method;
      kappa.set(st.kappa);
      lr.set(st.lr);
      beta.set(st.beta);
      help.textContent = st.method === "compare"
        ? "Click on the map to choose (lr, \u03b2). Green: Nesterov's worst-case rate is smaller there; vermillion: the heavy ball's; "
          + "paler where the two are close; yellow: a tie; grey: both diverge."
        : "Click on the map to choose (lr, \u03b2); the yellow marker is the optimum, grey means the iteration diverges.";
      const who = { momentum: "momentum's rate \u03c1", nesterov: "Nesterov's rate \u03c1",
        compare: "where the heavy ball or Nesterov is faster" }[st.method];
      title.textContent = `${who} over (lr, \u03b2), \u03ba = ${formatG(st.kappa, 4)}; `
        + `the selected pair's iterates on \u00bd(\u03bc x\u00b2 + L y\u00b2), \u03bc = ${formatG(st.mu, 4)}, L = 1`;
      const W = view.width, Lay = rateMapLayout(W);
      const { ctx, dpr } = sizeCanvas(canvas, W, Lay.H);
      const mapPanel = new Panel(Lay.map, [0, LR_MAX], [0, 1]);
      view.mapPanel = mapPanel;
      const grid = get("grid");
      ctx.drawImage(mapLayer.get(`${st.method}|${st.kappa}|${grid}|${W}|${Lay.H}|${dpr}`, W, Lay.H, dpr, (c) => {
        paintRateMap(c, mapPanel, st.mu, st.L, grid, st.kappa, st.method);
        rateMapLegend(c, mapPanel.rect.x, Lay.legendY, mapPanel.rect.w + 70, st.method);
      }), 0, 0, W, Lay.H);
      const pathPanel = new Panel(Lay.path, st.spec.xlim, st.spec.ylim, { equal: true });
      ctx.drawImage(pathLayer.get(`${st.kappa}|${W}|${Lay.H}|${dpr}`, W, Lay.H, dpr, (c) => {
        paintContours(c, pathPanel, `quadratic|${st.mu}`, surfaceFunctions(st.spec).f, 0.0, st.spec.minima, 15, 120);
        drawAxes(c, pathPanel, { title: "iterates of the selected pair" });
      }), 0, 0, W, Lay.H);

      const first = METHOD_STYLE[st.shown[0]].color;
      marker(ctx, "circle", mapPanel.px(st.lr), mapPanel.py(st.beta), 12, "#fff", first, 2.5);
      ctx.save();
      pathPanel.clip(ctx);
      for (const m of st.shown) {
        const p = st.runs[m].points, color = METHOD_STYLE[m].color;
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.lineWidth = 1.2;
        ctx.setLineDash(st.shown.length > 1 ? METHOD_STYLE[m].dash : []);
        polyline(ctx, pathPanel, st.steps + 1, (k) => p[2 * k], (k) => p[2 * k + 1]);
        for (let k = 0; k <= Math.min(st.steps, 400); k++) {
          if (!Number.isFinite(p[2 * k])) break;
          ctx.fillRect(pathPanel.px(p[2 * k]) - 1, pathPanel.py(p[2 * k + 1]) - 1, 2, 2);
        }
      }
      ctx.setLineDash([]);
      marker(ctx, "square", pathPanel.px(st.start[0]), pathPanel.py(st.start[1]), 8, "#000", "#fff");
      ctx.restore();

      const n0 = st.errors[st.shown[0]][0];
      const errPanel = new Panel(Lay.error, [0, st.steps], [1e-10 * n0, 1e4 * n0], { ylog: true });
      drawAxes(ctx, errPanel, { xlabel: "step k", ylabel: "error \u2016x\u2096\u2016" });
      ctx.save();
      errPanel.clip(ctx);
      ctx.setLineDash([2, 3]);
      ctx.strokeStyle = "#888";
      ctx.lineWidth = 1;
      polyline(ctx, errPanel, 2, (k) => k * st.steps, () => SHRINK * n0);
      const entries = [];
      if (st.shown.length === 1) {
        ctx.setLineDash([6, 4]);
        ctx.strokeStyle = "#000";
        polyline(ctx, errPanel, st.steps + 1, (k) => k, (k) => n0 * st.rate ** k);
      }
      for (const m of st.shown) {
        const style = METHOD_STYLE[m], dash = st.shown.length > 1 ? style.dash : [];
        ctx.setLineDash(dash);
        ctx.strokeStyle = style.color;
        ctx.lineWidth = 1.6;
        polyline(ctx, errPanel, st.steps + 1, (k) => k, (k) => st.errors[m][k]);
        entries.push({ label: st.shown.length > 1 ? `\u2016x\u2096\u2016, ${style.label}` : "\u2016x\u2096\u2016 (run)",
          draw: lineSample(style.color, dash) });
      }
      ctx.restore();
      if (st.shown.length === 1) entries.push({ label: "\u03c1\u1d4f \u2016x\u2080\u2016 (theory)", draw: lineSample("#000", [6, 4], 1) });
      entries.push({ label: "10\u207b\u2076 \u2016x\u2080\u2016", draw: lineSample("#888", [2, 3], 1) });
      legend(ctx, entries, errPanel.rect.x + errPanel.rect.w - 2, errPanel.rect.y + 2, "right");
      const diverged = st.run.divergedAt !== null;
      const status = diverged ? `diverged at step ${st.run.divergedAt}` : `\u03c1 = ${formatF(st.rate, 4)}`;
      ctx.font = FONT;
      ctx.fillStyle = diverged ? "#b00020" : "#000";
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.fillText(status, errPanel.rect.x + 8, errPanel.rect.y + errPanel.rect.h - 6);

      readout.replaceChildren(...st.lines.map((line) => h("div", "", { text: line })));
      view.drawn = { kappa: st.kappa, lr: st.lr, beta: st.beta, method: st.method, status, title: title.textContent,
        lines: st.lines, legend: entries.map((e) => e.label), canvas: [canvas.width, canvas.height], mapRect: mapPanel.rect,
        selectedPx: [mapPanel.px(st.lr), mapPanel.py(st.beta)] };
    };
  });
}

// ---------------------------------------------------------------------------------------
// The SGD explorer: minibatch SGD on the least-squares loss beside full-batch GD.
// Traits: lr, batch_size, momentum, steps, seed, show_average; sent once: data_x, data_y,
// surface_spec, star (theta*), batch_options; per seed: draws (the minibatch indices for
// every batch size, numpy's generator) and draws_layout {seed, dtype, rows, sizes}.
// ---------------------------------------------------------------------------------------

const SGD_TRAITS = ["lr", "lr_range", "batch_size", "momentum", "steps", "seed", "show_average", "data_x", "data_y",
  "surface_spec", "star", "batch_options", "draws", "draws_layout"];
const SGD_STYLE = {
  gd: { label: "full-batch GD", color: "#555555", dash: [], width: 1.8 },
  sgd: { label: "SGD", color: COLORS.orange, dash: [], width: 0.8 },
  average: { label: "running average", color: COLORS.purple, dash: [7, 3], width: 2.2 },
};
const DTYPES = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array };

/** The minibatch indices I_1, I_2, ... of the current seed and batch size, or null (full batch / not sent). */
function currentDraws(get, m) {
  const B = get("batch_size");
  if (B === m) return { draws: null, ok: true };
  const layout = get("draws_layout") || {};
  const sizes = layout.sizes || [];
  if (layout.seed !== get("seed") || !sizes.includes(B)) return { draws: null, ok: false };
  const all = typedArray(get("draws"), DTYPES[layout.dtype] || Uint32Array);
  let offset = 0;
  for (const s of sizes) {
    if (s === B) break;
    offset += s * layout.rows;
  }
  return { draws: all.subarray(offset, offset + B * layout.rows), ok: true };
}

/** The SGD explorer's state as drawn (lessons_lib.widgets.sgd.SGDExplorer.readout_lines). */
export function sgdState(get) {
  const x = typedArray(get("data_x"), Float64Array), y = typedArray(get("data_y"), Float64Array);
  const m = x.length;
  const spec = get("surface_spec"), star = get("star"), start = spec.start;
  const lr = get("lr"), B = get("batch_size"), beta = get("momentum"), steps = get("steps");
  const { draws, ok } = currentDraws(get, m);
  const gd = simulate(spec, start, beta === 0 ? "gd" : "momentum", lr, beta, steps);
  const gdName = beta === 0 ? "full-batch GD" : "full-batch GD with momentum";
  const gdDist = distances(gd.points, star);
  const lines = [];
  let sgd = null, average = null;
  if (ok) {
    sgd = sgdPath(x, y, start, lr, B, steps, draws, beta, spec.escape_radius);
    average = runningAverage(sgd.points);
    const name = `SGD, batch ${B} of ${m}` + (B === m ? " (the full batch: SGD is GD)" : "");
    if (sgd.divergedAt !== null) {
      lines.push(`${name}: diverged at step ${sgd.divergedAt}`,
        "running average of the SGD iterates: undefined (SGD diverged)");
    } else {
      lines.push(`${name}: ||theta_k - theta*|| ${formatDistance(distances(sgd.points, star)[steps])} at step ${steps}`,
        `running average of the SGD iterates: ||mean - theta*|| ${formatDistance(distances(average, star)[steps])}`);
    }
  }
  lines.push(gd.divergedAt !== null ? `${gdName}: diverged at step ${gd.divergedAt}`
    : `${gdName}: ||theta_k - theta*|| ${formatDistance(gdDist[steps])}`);
  return { x, y, m, spec, star, start, lr, B, beta, steps, gd, gdDist, sgd, average, lines, ok };
}

function renderSgd(model, el) {
  return createView(model, el, "cw-sgd", SGD_TRAITS, (view) => {
    const get = (k) => model.get(k);
    const contours = new Layer();
    const lrRange = get("lr_range");
    const lr = slider({ label: "lr", text: "\u03b7", min: Math.log10(lrRange[0]), max: Math.log10(lrRange[1]), step: 0.01,
      fine: 0.001, log: true, bounds: lrRange, format: (v) => formatG(v, 3), onChange: (v) => view.set({ lr: v }),
      title: "learning rate (log scale)" });
    const batch = slider({ label: "batch size", min: 0, max: 6, step: 1, format: String,
      onChange: (i) => view.set({ batch_size: get("batch_options")[i] }) });
    const beta = slider({ label: "momentum", text: "\u03b2", min: 0, max: 0.95, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ momentum: v }) });
    const steps = slider({ label: "steps", min: 10, max: 2000, step: 10, fine: 1, format: String,
      onChange: (v) => view.set({ steps: v }) });
    const seed = numberBox("seed", { step: 1, min: 0, max: 2 ** 32 - 1, integer: true,
      onChange: (v) => view.set({ seed: v }) });
    const noise = button("new noise", () => view.set({ seed: (get("seed") + 1) % 2 ** 32 }),
      "draw other minibatches (seed + 1)");
    const average = checkbox("show the running average of the iterates (Polyak-Ruppert)",
      (on) => view.set({ show_average: on }));
    const title = h("div", "cw-title");
    const canvas = h("canvas", "cw-canvas");
    canvas.style.cursor = "default";
    const readout = h("div", "cw-readout-box");
    view.root.append(h("div", "cw-row", {}, [lr.el, batch.el, beta.el]),
      h("div", "cw-row", {}, [steps.el, seed.el, noise, average.el]),
      h("div", "cw-help", { text: "Orange: SGD; purple: the running average of its iterates; grey: full-batch "
        + "gradient descent with the same \u03b7 and \u03b2. The last batch size is the full batch." }),
      title, canvas, readout);

    view.draw = () => {
      const st = sgdState(get);
      const options = get("batch_options");
      lr.set(st.lr);
      batch.setRange(0, options.length - 1);
      batch.set(Math.max(0, options.indexOf(st.B)));
      batch.el.querySelector("output").textContent = String(st.B);
      beta.set(st.beta);
      steps.set(st.steps);
      seed.set(get("seed"));
      average.set(get("show_average"));
      title.textContent = `least squares on m = ${st.m} points: ${st.spec.title}`;

      const W = view.width, L = explorerLayout(W);
      const { ctx, dpr } = sizeCanvas(canvas, W, L.H);
      const pathPanel = new Panel(L.path, st.spec.xlim, st.spec.ylim, { equal: true });
      ctx.drawImage(contours.get(`${W}|${L.H}|${dpr}`, W, L.H, dpr, (c) => {
        paintContours(c, pathPanel, `lsq|${st.spec.coef.a01}|${st.spec.coef.b1}`, surfaceFunctions(st.spec).f,
          st.spec.f_min, [], 25, 160);
        drawAxes(c, pathPanel, { xlabel: "\u03b8\u2080", ylabel: "\u03b8\u2081", title: "paths (square: start)" });
      }), 0, 0, W, L.H);
      const showAvg = get("show_average") && st.sgd !== null;
      const paths = [["gd", st.gd.points]];
      if (st.sgd) paths.push(["sgd", st.sgd.points]);
      if (showAvg) paths.push(["average", st.average]);
      ctx.save();
      pathPanel.clip(ctx);
      for (const [key, p] of paths) {
        const s = SGD_STYLE[key];
        ctx.strokeStyle = s.color;
        ctx.fillStyle = s.color;
        ctx.lineWidth = s.width;
        ctx.setLineDash(s.dash);
        polyline(ctx, pathPanel, st.steps + 1, (k) => p[2 * k], (k) => p[2 * k + 1]);
        if (key === "sgd") {
          for (let k = 0; k <= st.steps && Number.isFinite(p[2 * k]); k++) {
            ctx.fillRect(pathPanel.px(p[2 * k]) - 1, pathPanel.py(p[2 * k + 1]) - 1, 2, 2);
          }
        }
      }
      marker(ctx, "square", pathPanel.px(st.start[0]), pathPanel.py(st.start[1]), 8, "#000", "#fff");
      marker(ctx, "star", pathPanel.px(st.star[0]), pathPanel.py(st.star[1]), 16, COLORS.yellow);
      ctx.restore();

      const d0 = distances(new Float64Array(st.start), st.star)[0];
      const distPanel = new Panel(L.loss, [0, st.steps], [1e-7, 10.0 * d0], { ylog: true });
      drawAxes(ctx, distPanel, { xlabel: "step k", ylabel: "\u2016\u03b8\u207d\u1d4f\u207e \u2212 \u03b8*\u2016",
        title: "distance to the least-squares solution" });
      ctx.save();
      distPanel.clip(ctx);
      const shown = [];
      for (const [key, p] of paths) {
        const s = SGD_STYLE[key], d = key === "gd" ? st.gdDist : distances(p, st.star);
        ctx.strokeStyle = s.color;
        ctx.lineWidth = Math.max(1.2, s.width);
        ctx.setLineDash(s.dash);
        polyline(ctx, distPanel, st.steps + 1, (k) => k, (k) => d[k]);
        shown.push({ label: s.label, draw: lineSample(s.color, s.dash, Math.max(1.2, s.width)) });
      }
      ctx.restore();
      legend(ctx, shown, distPanel.rect.x + 6, distPanel.rect.y + distPanel.rect.h - 16 * shown.length - 10);

      const lines = st.ok ? st.lines : ["(drawing the minibatches of this seed: the kernel sends them; "
        + "without a running kernel only the saved seed's draws exist)", ...st.lines];
      readout.replaceChildren(...lines.map((line, i) => h("div", !st.ok && i === 0 ? "cw-notice" : "", { text: line })));
      view.drawn = { lines: st.lines, ok: st.ok, legend: shown.map((e) => e.label), canvas: [canvas.width, canvas.height] };
      view.root.dataset.legend = shown.map((e) => e.label).join("|");
    };
  });
}

// ---------------------------------------------------------------------------------------
// Many eigenvalues (lessons_lib.widgets.spectrum): the quadratic 0.5 sum_i lam_i x_i^2 with
// lam_i = 2^-i, every component from error 1; |x_i,k| against k for gradient descent and the
// heavy ball, coloured by lam_i, and the total loss. Traits: n, lr, beta, steps.
// ---------------------------------------------------------------------------------------

const SPECTRUM_TRAITS = ["n", "lr", "beta", "steps"];
export const SPECTRUM_ESCAPE = 1e6;
const PACE_RTOL = 1e-6; // as spectrum.PACE_RTOL: rates at a double root agree to ~1e-8 only
const SPECTRUM_Y = [1e-10, 1e3];
const SPECTRUM_METHODS = ["gd", "momentum"];
const SPECTRUM_LABELS = { gd: "gradient descent", momentum: "heavy ball" };
const SUBSCRIPT_MINUS = (i) => (i ? `2${powerOfTen(-i).slice(2)}` : "1"); // "2⁻³"

/** lam_i = 2^-i, i = 0 .. n-1 (spectrum.eigenvalues). */
export function spectrumEigenvalues(n) {
  return Float64Array.from({ length: n }, (_, i) => 2.0 ** -i);
}

/**
 * Every component's error x_k, k = 0..steps, by running the iterations in PyTorch's form
 * (gradient lam x; the buffer b = beta b + g; x -= lr b), rows of steps + 1 per component;
 * NaN from the step |x| passes SPECTRUM_ESCAPE. {lams, gd, momentum, gdLoss, momentumLoss}.
 */
export function spectrumErrors(lr, beta, n, steps) {
  const lams = spectrumEigenvalues(n), S = steps + 1;
  const out = { lams };
  for (const m of SPECTRUM_METHODS) {
    const b0 = m === "gd" ? 0.0 : beta;
    const x = new Float64Array(n * S).fill(NaN);
    for (let i = 0; i < n; i++) {
      const lam = lams[i], o = i * S;
      let v = 1.0, b = 0.0;
      x[o] = 1.0;
      for (let k = 1; k <= steps; k++) {
        b = b0 * b + lam * v;
        v -= lr * b;
        if (!(Math.abs(v) <= SPECTRUM_ESCAPE)) break;
        x[o + k] = v;
      }
    }
    // the total loss 0.5 sum_i lam_i x_i^2, summed over i in order (spectrum.total_loss)
    const loss = new Float64Array(S);
    for (let i = 0; i < n; i++) {
      const lam = lams[i], o = i * S;
      for (let k = 0; k < S; k++) loss[k] = loss[k] + 0.5 * lam * x[o + k] * x[o + k];
    }
    out[m] = x;
    out[`${m}Loss`] = loss;
  }
  return out;
}

/** The spectrum's state as drawn: the errors, each component's rate, the pace setters, the readout. */
export function spectrumState(get) {
  const n = get("n"), lr = get("lr"), beta = get("beta"), steps = get("steps");
  const run = spectrumErrors(lr, beta, n, steps);
  const lams = run.lams;
  const rates = {
    gd: Float64Array.from(lams, (lam) => Math.abs(1.0 - lr * lam)),
    momentum: Float64Array.from(lams, (lam) => spectralRadius2x2(1.0 + beta - lr * lam, beta)),
  };
  const lines = [`n = ${n} eigenvalues \u03bb\u1d62 = 2\u207b\u2071, i = 0..${n - 1} (1 down to ${formatG(lams[n - 1], 4)}, `
    + `\u03ba = ${2 ** (n - 1)}); \u03b7 = ${formatF(lr, 3)}, \u03b2 = ${formatF(beta, 3)}; every component starts at error 1`];
  const pace = {};
  for (const m of SPECTRUM_METHODS) {
    const r = rates[m];
    let top = -Infinity, fastest = 0;
    for (let i = 0; i < n; i++) {
      top = Math.max(top, r[i]);
      if (r[i] < r[fastest]) fastest = i;
    }
    pace[m] = [];
    for (let i = 0; i < n; i++) if (r[i] >= top * (1.0 - PACE_RTOL)) pace[m].push(i);
    const p = pace[m], rate = r[p[0]];
    const who = p.length === 1 ? `component ${p[0]} (\u03bb = ${formatG(lams[p[0]], 4)})`
      : `components ${p.join(", ")} (all at this rate)`;
    const s = stepsToShrink(rate);
    const then = s === null ? "it diverges (\u03c1 \u2265 1)" : `${s} step${plural(s)} to shrink its error by 1e-6 (theory)`;
    lines.push(`${SPECTRUM_LABELS[m]}: the pace is set by ${who}: rate \u03c1 = ${formatF(rate, 4)}, ${then}; `
      + `the fastest is component ${fastest} (\u03c1 = ${formatF(r[fastest], 4)})`);
  }
  lines.push(`total loss after ${steps} steps (it starts at ${formatF(run.gdLoss[0], 4)}): `
    + SPECTRUM_METHODS.map((m) => {
      const last = run[`${m}Loss`][steps];
      return `${SPECTRUM_LABELS[m]} ${Number.isNaN(last) ? "diverged" : formatE(last, 2)}`;
    }).join(", "));
  return { n, lr, beta, steps, lams, run, rates, pace, lines };
}

/** The colour of component i of n: viridis from 0 (lam = 1) to 0.9 (spectrum.SPECTRUM_COLOR_RANGE). */
function componentColor(i, n) {
  return `rgb(${viridis(0.9 * i / Math.max(n - 1, 1)).join(",")})`;
}

function spectrumLayout(W) {
  const top = Math.round(Math.min(340, Math.max(230, W * 0.3)));
  const gap = 70, bar = 70;
  const half = Math.floor((W - 58 - bar - gap - 14) / 2);
  return {
    H: 26 + top + 60 + 30 + 200 + 46,
    gd: { x: 58, y: 26, w: half, h: top },
    momentum: { x: 58 + half + gap, y: 26, w: half, h: top },
    bar: { x: 58 + 2 * half + gap + 12, y: 26, w: 12, h: top },
    loss: { x: 58, y: 26 + top + 60 + 30, w: W - 58 - 14 - bar, h: 200 },
  };
}

function renderSpectrum(model, el) {
  return createView(model, el, "cw-spectrum", SPECTRUM_TRAITS, (view) => {
    const get = (k) => model.get(k);
    const lr = slider({ label: "\u03b7 (L = 1)", min: LR_MIN, max: LR_MAX, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ lr: v }), title: "learning rate: arrow keys 0.01, with Shift 0.001" });
    const beta = slider({ label: "momentum \u03b2", min: 0, max: BETA_MAX, step: 0.01, fine: 0.001,
      format: (v) => formatF(v, 3), onChange: (v) => view.set({ beta: v }), title: "the heavy ball's momentum" });
    beta.el.style.minWidth = "320px"; // its long label keeps its width: at 592 px the two sliders wrap
    const n = slider({ label: "n", min: 2, max: 16, step: 1, format: String, onChange: (v) => view.set({ n: v }),
      title: "number of eigenvalues 2\u207b\u2071" });
    const steps = slider({ label: "steps", min: 10, max: 2000, step: 10, fine: 1, format: String,
      onChange: (v) => view.set({ steps: v }) });
    const optimum = button("Polyak's optimum", () => {
      const [o, b] = optimalMomentum(2.0 ** -(get("n") - 1), 1.0);
      view.set({ lr: o, beta: b });
    }, "the heavy ball's best (\u03b7, \u03b2) for eigenvalues in [2^-(n-1), 1]");
    const canvas = h("canvas", "cw-canvas");
    canvas.style.cursor = "default";
    const readout = h("div", "cw-readout-box");
    view.root.append(h("div", "cw-row", {}, [lr.el, beta.el]), h("div", "cw-row", {}, [n.el, steps.el, optimum]),
      h("div", "cw-help", { text: "One curve per eigen-component, coloured by its eigenvalue (dark: stiff, \u03bb = 1; "
        + "light: flat); the thick curve sets the pace. Gradient descent uses \u03b7 only." }),
      canvas, readout);

    view.draw = () => {
      const st = spectrumState(get);
      lr.set(st.lr);
      beta.set(st.beta);
      n.set(st.n);
      steps.set(st.steps);
      const W = view.width, Lay = spectrumLayout(W);
      const { ctx } = sizeCanvas(canvas, W, Lay.H);
      const S = st.steps + 1;
      for (const m of SPECTRUM_METHODS) {
        const panel = new Panel(Lay[m], [0, st.steps], SPECTRUM_Y, { ylog: true });
        const extra = m === "gd" ? "" : `, \u03b2 = ${formatF(st.beta, 3)}`;
        drawAxes(ctx, panel, { xlabel: "step k", ylabel: "|error of component i|",
          title: `${SPECTRUM_LABELS[m]}, \u03b7 = ${formatF(st.lr, 3)}${extra}` });
        ctx.save();
        panel.clip(ctx);
        const x = st.run[m];
        for (let i = st.n - 1; i >= 0; i--) {
          ctx.strokeStyle = componentColor(i, st.n);
          ctx.lineWidth = st.pace[m].includes(i) ? 2.8 : 1.3;
          polyline(ctx, panel, S, (k) => k, (k) => Math.max(Math.abs(x[i * S + k]), 1e-300));
        }
        ctx.restore();
      }
      // the colour bar: one band per component, lam = 1 at the top
      const bar = Lay.bar, band = bar.h / st.n, every = st.n > 10 ? 2 : 1;
      ctx.save();
      ctx.font = SMALL_FONT;
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      for (let i = 0; i < st.n; i++) {
        ctx.fillStyle = componentColor(i, st.n);
        ctx.fillRect(bar.x, bar.y + i * band, bar.w, Math.ceil(band));
        if (i % every === 0) {
          ctx.fillStyle = "#222";
          ctx.fillText(SUBSCRIPT_MINUS(i), bar.x + bar.w + 4, bar.y + (i + 0.5) * band);
        }
      }
      ctx.translate(bar.x + bar.w + 44, bar.y + bar.h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText("eigenvalue \u03bb\u1d62 = 2\u207b\u2071", 0, 0);
      ctx.restore();
      // the total loss
      const lossPanel = new Panel(Lay.loss, [0, st.steps], [1e-20, 1e2], { ylog: true });
      drawAxes(ctx, lossPanel, { xlabel: "step k", ylabel: "f(x\u2096)", title: "total loss \u00bd \u03a3\u1d62 \u03bb\u1d62 x\u1d62\u00b2" });
      ctx.save();
      lossPanel.clip(ctx);
      for (const m of SPECTRUM_METHODS) {
        const loss = st.run[`${m}Loss`], style = METHOD_STYLE[m];
        ctx.strokeStyle = style.color;
        ctx.lineWidth = 1.8;
        ctx.setLineDash(style.dash);
        polyline(ctx, lossPanel, S, (k) => k, (k) => Math.max(loss[k], 1e-300));
      }
      ctx.restore();
      const entries = SPECTRUM_METHODS.map((m) => ({ label: SPECTRUM_LABELS[m], draw: lineSample(METHOD_STYLE[m].color, METHOD_STYLE[m].dash) }));
      legend(ctx, entries, lossPanel.rect.x + lossPanel.rect.w - 2, lossPanel.rect.y + 2, "right");
      readout.replaceChildren(...st.lines.map((line) => h("div", "", { text: line })));
      view.drawn = { lines: st.lines, pace: st.pace, legend: entries.map((e) => e.label), canvas: [canvas.width, canvas.height],
        gdRect: Lay.gd, momentumRect: Lay.momentum };
    };
  });
}

// ---------------------------------------------------------------------------------------
// The parabola check of lesson 00: gradient descent on f(x) = x^2 / 2 from x_0 = 1, so
// x_k = (1 - lr)^k; one slider. Traits: lr.
// ---------------------------------------------------------------------------------------

const PARABOLA = quadraticSpec(1.0, 1.0);

/** The parabola's state as drawn: the 11 iterates and the readout line. */
export function parabolaState(get) {
  const lr = get("lr");
  const run = simulate(PARABOLA, [1.0, 0.0], "gd", lr, 0.0, 10);
  const factor = 1.0 - lr;
  const sign = isNegative(factor) ? "" : "+";
  const verdict = Math.abs(factor) < 1 ? "shrinks" : "does not shrink";
  // the y-axis: +-2.2, widened to 1.1 max |x_k| when the iterates grow (lr > 2), so no dot is cut off
  let top = 0;
  for (let k = 0; k <= 10; k++) top = Math.max(top, Math.abs(run.points[2 * k]));
  const ylim = Math.max(2.2, 1.1 * top);
  return { lr, run, ylim, lines: [`each step multiplies x by 1 - lr = ${sign}${formatF(factor, 2)}: the iterate ${verdict}`] };
}

function renderParabola(model, el) {
  return createView(model, el, "cw-parabola", ["lr"], (view) => {
    const get = (k) => model.get(k);
    const lr = slider({ label: "lr", text: "\u03b7", min: 0.05, max: 2.2, step: 0.05, fine: 0.01, format: (v) => formatF(v, 2),
      onChange: (v) => view.set({ lr: v }) });
    const readout = h("div", "cw-readout-box");
    const canvas = h("canvas", "cw-canvas");
    canvas.style.cursor = "default";
    view.root.append(h("div", "cw-row", {}, [lr.el]), readout, canvas);
    view.draw = () => {
      const st = parabolaState(get);
      lr.set(st.lr);
      readout.textContent = st.lines[0];
      const W = Math.min(view.width, 720), H = 260;
      const { ctx } = sizeCanvas(canvas, W, H);
      const panel = new Panel({ x: 58, y: 30, w: W - 58 - 14, h: H - 30 - 46 }, [-0.3, 10.3], [-st.ylim, st.ylim]);
      drawAxes(ctx, panel, { xlabel: "step k", ylabel: "x\u2096", xticks: 6,
        title: `x\u2096 = (1 \u2212 \u03b7)\u1d4f with \u03b7 = ${formatF(st.lr, 2)}` });
      ctx.strokeStyle = "#999";
      ctx.lineWidth = 0.8;
      polyline(ctx, panel, 2, (k) => -0.3 + 10.6 * k, () => 0.0);
      const x = (k) => st.run.points[2 * k];
      ctx.strokeStyle = METHOD_STYLE.gd.color;
      ctx.lineWidth = 1.5;
      polyline(ctx, panel, 11, (k) => k, x);
      for (let k = 0; k <= 10; k++) marker(ctx, "circle", panel.px(k), panel.py(x(k)), 7, METHOD_STYLE.gd.color, "none");
      view.drawn = { lines: st.lines, canvas: [canvas.width, canvas.height] };
    };
  });
}

// ---------------------------------------------------------------------------------------
// anywidget entry point: the model's `kind` picks the figure. render() returns the
// clean-up that removes the view's listeners, observer and animation.
// ---------------------------------------------------------------------------------------

const RENDERERS = { explorer: renderExplorer, rate_map: renderRateMap, sgd: renderSgd, parabola: renderParabola,
  spectrum: renderSpectrum };

function render({ model, el }) {
  const kind = model.get("kind");
  const fn = RENDERERS[kind];
  if (!fn) throw new Error(`course_widgets.js: unknown widget kind ${JSON.stringify(kind)}`);
  return fn(model, el);
}

export default { render };
