// Small text helpers shared by the text reporters.

export function ms(v: number): string {
  if (v >= 10_000) return `${(v / 1000).toFixed(1)}s`;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  return `${v.toFixed(v >= 10 ? 1 : 2)}ms`;
}

export function table(rows: string[][], rightAlignFrom = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c >= rightAlignFrom ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

export function classCounts(codes: Record<string, number>): number[] {
  const out = [0, 0, 0, 0, 0, 0];
  for (const [code, n] of Object.entries(codes)) {
    const cls = Math.floor(Number(code) / 100);
    if (cls >= 1 && cls <= 6) out[cls - 1]! += n;
  }
  return out;
}
