// Runs node's test runner over the suite's files (Node 20's --test takes no glob patterns).
//   node scripts/test.mjs [all|security|unit|integration|e2e|browser]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2] ?? 'all';
const dirs = {
  all: ['test/unit', 'test/integration', 'test/e2e'],
  unit: ['test/unit'],
  integration: ['test/integration'],
  e2e: ['test/e2e'],
  browser: ['test/browser'],
  security: ['test'],
}[suite];
if (!dirs) {
  console.error(`unknown suite ${suite}`);
  process.exit(2);
}
const pattern = suite === 'security' ? /\.security\.test\.ts$/ : /\.test\.ts$/;
const files = dirs
  .flatMap((d) => readdirSync(d, { recursive: true }).map((f) => join(d, String(f))))
  .filter((f) => pattern.test(f))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The browser suite drives one chromium at a time; the others use both cores.
const concurrency = suite === 'browser' ? 1 : 2;
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    ...process.argv.slice(3),
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
