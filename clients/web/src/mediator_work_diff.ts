// The differences between two lists (an agreement's commitments, or the lines of its free
// text): what both share at the start and the end, then the longest common subsequence of the
// rest; what is left of each is removed or added. A removal followed by an addition at the same
// place reads as one change. Pure: no page, no API (tested in test/console_mediator_work.test.ts).

export type Difference<T> =
  | { kind: "same"; before: T; after: T }
  | { kind: "removed"; before: T }
  | { kind: "added"; after: T }
  | { kind: "changed"; before: T; after: T };

// The most table cells the subsequence is looked for in (16 MB); beyond, the middle of the two
// lists reads as changed as a whole.
const kMaxCells = 4_000_000;

// `before` turned into `after`, in order, each element compared by `key`.
export function differences<T>(before: T[], after: T[], key: (item: T) => string): Array<Difference<T>> {
  const a = before.map(key);
  const b = after.map(key);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) ++start;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    --endA;
    --endB;
  }
  const out: Array<Difference<T>> = [];
  const same = (i: number, j: number) => out.push({ kind: "same", before: before[i], after: after[j] });
  for (let i = 0; i < start; ++i) same(i, i);

  // Removals and additions since the last element both lists share, paired into changes.
  let removed: T[] = [];
  let added: T[] = [];
  const flush = () => {
    const paired = Math.min(removed.length, added.length);
    for (let k = 0; k < paired; ++k) out.push({ kind: "changed", before: removed[k], after: added[k] });
    for (const item of removed.slice(paired)) out.push({ kind: "removed", before: item });
    for (const item of added.slice(paired)) out.push({ kind: "added", after: item });
    removed = [];
    added = [];
  };
  const rows = endA - start;
  const width = endB - start + 1;
  if ((rows + 1) * width <= kMaxCells) {
    // common[i * width + j]: the longest common subsequence of a[start + i..endA) and
    // b[start + j..endB).
    const common = new Uint32Array((rows + 1) * width);
    for (let i = rows - 1; i >= 0; --i) {
      for (let j = width - 2; j >= 0; --j) {
        common[i * width + j] =
          a[start + i] === b[start + j]
            ? common[(i + 1) * width + j + 1] + 1
            : Math.max(common[(i + 1) * width + j], common[i * width + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < rows || j < width - 1) {
      if (i < rows && j < width - 1 && a[start + i] === b[start + j]) {
        flush();
        same(start + i++, start + j++);
      } else if (j >= width - 1 || (i < rows && common[(i + 1) * width + j] >= common[i * width + j + 1])) {
        removed.push(before[start + i++]);
      } else {
        added.push(after[start + j++]);
      }
    }
  } else {
    removed = before.slice(start, endA);
    added = after.slice(start, endB);
  }
  flush();
  for (let k = 0; k < a.length - endA; ++k) same(endA + k, endB + k);
  return out;
}
