/**
 * A line diff: the shortest edit script between two sequences (Myers, "An O(ND) Difference
 * Algorithm and Its Variations", 1986, with the linear-space middle-snake refinement of §4b), so
 * one inserted packet is one inserted line and not a cascade of changed ones, and captures of
 * thousands of packets need memory in proportion to their length only.
 */

export type EditOp =
  | { readonly op: 'equal'; readonly a: number; readonly b: number }
  | { readonly op: 'delete'; readonly a: number }
  | { readonly op: 'insert'; readonly b: number };

/** The edit script turning `a` into `b`, in order (indices count from 0). */
export function diffSequences(a: readonly string[], b: readonly string[]): EditOp[] {
  const out: EditOp[] = [];
  diffRange(a, 0, a.length, b, 0, b.length, out);
  return out;
}

function diffRange(a: readonly string[], aLo: number, aHi: number, b: readonly string[], bLo: number, bHi: number, out: EditOp[]): void {
  // Common prefix and suffix first: cheap, and it leaves a range where the first and the last
  // element of each side differ, so a middle snake always splits it into smaller ranges.
  let prefix = 0;
  while (aLo + prefix < aHi && bLo + prefix < bHi && a[aLo + prefix] === b[bLo + prefix]) prefix++;
  for (let i = 0; i < prefix; i++) out.push({ op: 'equal', a: aLo + i, b: bLo + i });
  aLo += prefix;
  bLo += prefix;
  let suffix = 0;
  while (aHi - suffix > aLo && bHi - suffix > bLo && a[aHi - suffix - 1] === b[bHi - suffix - 1]) suffix++;
  const aEnd = aHi - suffix;
  const bEnd = bHi - suffix;
  if (aLo === aEnd) {
    for (let j = bLo; j < bEnd; j++) out.push({ op: 'insert', b: j });
  } else if (bLo === bEnd) {
    for (let i = aLo; i < aEnd; i++) out.push({ op: 'delete', a: i });
  } else {
    const s = middleSnake(a, aLo, aEnd, b, bLo, bEnd);
    const madeProgress = !(s.x === 0 && s.y === 0 && s.u === aEnd - aLo && s.v === bEnd - bLo);
    if (madeProgress && (s.u > 0 || s.v > 0) && (s.x < aEnd - aLo || s.y < bEnd - bLo)) {
      diffRange(a, aLo, aLo + s.x, b, bLo, bLo + s.y, out);
      for (let k = 0; k < s.u - s.x; k++) out.push({ op: 'equal', a: aLo + s.x + k, b: bLo + s.y + k });
      diffRange(a, aLo + s.u, aEnd, b, bLo + s.v, bEnd, out);
    } else {
      // Unreachable for ranges trimmed as above; kept so that no input can recurse forever.
      for (let i = aLo; i < aEnd; i++) out.push({ op: 'delete', a: i });
      for (let j = bLo; j < bEnd; j++) out.push({ op: 'insert', b: j });
    }
  }
  for (let i = 0; i < suffix; i++) out.push({ op: 'equal', a: aEnd + i, b: bEnd + i });
}

interface Snake {
  /** Start (x, y) and end (u, v) of the middle snake, relative to the range. */
  readonly x: number;
  readonly y: number;
  readonly u: number;
  readonly v: number;
}

/**
 * Runs the forward and the reverse search at once until their furthest-reaching paths overlap
 * (Myers §4b); the snake where they meet lies on some shortest edit script.
 */
function middleSnake(a: readonly string[], aLo: number, aHi: number, b: readonly string[], bLo: number, bHi: number): Snake {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const delta = n - m;
  const odd = (delta & 1) !== 0;
  const max = Math.ceil((n + m) / 2);
  const offset = max + 1;
  // vf[k]: furthest x on diagonal k = x - y going forward; vb[k]: furthest x' = n - x going back,
  // on the reverse diagonal k = x' - y' (forward diagonal delta - k).
  const vf = new Int32Array(2 * max + 3);
  const vb = new Int32Array(2 * max + 3);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && vf[offset + k - 1]! < vf[offset + k + 1]!) ? vf[offset + k + 1]! : vf[offset + k - 1]! + 1;
      let y = x - k;
      const x0 = x;
      const y0 = y;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
      }
      vf[offset + k] = x;
      const kr = delta - k;
      if (odd && kr >= -(d - 1) && kr <= d - 1 && x + vb[offset + kr]! >= n) return { x: x0, y: y0, u: x, v: y };
    }
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && vb[offset + k - 1]! < vb[offset + k + 1]!) ? vb[offset + k + 1]! : vb[offset + k - 1]! + 1;
      let y = x - k;
      const x0 = x;
      const y0 = y;
      while (x < n && y < m && a[aHi - 1 - x] === b[bHi - 1 - y]) {
        x++;
        y++;
      }
      vb[offset + k] = x;
      const kf = delta - k;
      if (!odd && kf >= -d && kf <= d && x + vf[offset + kf]! >= n) return { x: n - x, y: m - y, u: n - x0, v: m - y0 };
    }
  }
  return { x: 0, y: 0, u: n, v: m };
}
