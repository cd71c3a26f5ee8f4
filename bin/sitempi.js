#!/usr/bin/env node
// The sitempi command (see `sitempi --help`); runs the compiled CLI in dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(`sitempi: ${entry} is missing; build the TypeScript first (npm run build:ts)\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Leaked handles must not keep a finished command alive.
setTimeout(() => process.exit(code), 3000).unref();
