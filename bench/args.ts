// Command-line options of the single benchmarks: `--name value`, else a default.
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ? v : fallback;
}
