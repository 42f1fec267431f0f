#!/usr/bin/env node
// `npm run bench [-- name…]`: runs every bench/*.ts (or the named ones) in sequence through tsx,
// after building dist/ (bench/api.ts runs the built host). Each benchmark prints its figures and
// ends with one JSON line. Exits non-zero if any benchmark failed; benchmarks never assert timing.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .sort();
const benches =
  wanted.length === 0 ? all : all.filter((f) => wanted.includes(f.replace(/\.ts$/, '')));
if (benches.length === 0 || benches.length < wanted.length) {
  console.error(
    `no such benchmark; available: ${all.map((f) => f.replace(/\.ts$/, '')).join(', ')}`,
  );
  process.exit(2);
}

const run = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (run(['scripts/build.mjs']).status !== 0) {
  console.error('bench: build failed');
  process.exit(1);
}
const failed = [];
for (const f of benches) {
  console.log(`\n== bench/${f}`);
  const r = run(['node_modules/tsx/dist/cli.mjs', join('bench', f)]);
  if (r.status !== 0) failed.push(`${f} (${r.signal ?? `exit ${r.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbench: failed: ${failed.join(', ')}`);
  process.exit(1);
}
