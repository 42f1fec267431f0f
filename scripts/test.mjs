// Runs node's test runner over the suite's files (Node 20's --test takes no glob patterns).
//   node scripts/test.mjs [all|security|unit|integration|e2e|browser|reliability]
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
  // faults, fuzz and shared limits with real processes; bounded by default (docs/reliability.md)
  reliability: ['test/reliability'],
  // what touches a database: CI's PostgreSQL pass (unit tests use none; test/unit/db-free.test.ts)
  db: ['test/integration', 'test/e2e', 'test/reliability'],
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
// A test that restarts the shared PostgreSQL server would fail whatever runs beside it: run those
// alone, after the rest.
const RESTARTS_DB = /db-restart\.test\.ts$/;
const batches = [
  files.filter((f) => !RESTARTS_DB.test(f)),
  files.filter((f) => RESTARTS_DB.test(f)),
];
let status = 0;
for (const batch of batches.filter((b) => b.length > 0)) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${concurrency}`,
      ...process.argv.slice(3),
      ...batch,
    ],
    { stdio: 'inherit' },
  );
  status ||= r.status ?? 1;
}
process.exit(status);
