// Kafka's tools' plain table (ToolsUtils.prettyPrintTable): every cell padded with spaces to its
// column's widest value (header included) and followed by a tab, one line per row, header first.
// The trailing tab after the last column is Kafka's too; scripts split on whitespace.

export function prettyTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (row: readonly string[]): string => widths.map((w, i) => (row[i] ?? '').padEnd(w) + '\t').join('') + '\n';
  return line(headers) + rows.map(line).join('');
}
