#!/usr/bin/env node
/**
 * Keeps a migrated PGlite data directory at .cache/pglite-template/ for the tests to copy: a cold
 * PGlite start runs initdb (3–9 s), reopening a copied directory takes well under a second.
 *
 * The template is rebuilt when its key changes: SHA-256 over the PGlite version and every
 * migration file (name and content). Building runs the real `npm run migrate` entry point
 * (src/store/migrate-cli.ts through tsx) into a private directory, then renames it into place,
 * so a concurrent test process never sees a half-built template. A lock directory keeps
 * parallel callers (test files run in parallel) from all building at once.
 *
 * Run by `pretest`; test/helpers/db.ts also runs it once per process, which costs one hash when
 * the template is fresh. Prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const migrationsDir = join(root, 'src/store/migrations');
const cacheDir = join(root, '.cache');
const target = join(cacheDir, 'pglite-template');
const lockDir = join(cacheDir, 'pglite-template.lock');
const STALE_LOCK_MS = 180_000;

function templateKey() {
  const h = createHash('sha256');
  const pkg = JSON.parse(
    readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  );
  h.update(`pglite ${pkg.version}\0`);
  for (const name of readdirSync(migrationsDir)
    .filter((n) => n.endsWith('.sql'))
    .sort()) {
    h.update(`${name}\0`)
      .update(readFileSync(join(migrationsDir, name)))
      .update('\0');
  }
  return h.digest('hex');
}

function isFresh(key) {
  try {
    return (
      readFileSync(join(target, 'KEY'), 'utf8') === key &&
      existsSync(join(target, 'pgdata/PG_VERSION'))
    );
  } catch {
    return false;
  }
}

function tryLock() {
  try {
    mkdirSync(lockDir);
    return true;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    // A builder that crashed leaves its lock behind; take it over after a generous delay.
    try {
      if (Date.now() - statSync(lockDir).mtimeMs > STALE_LOCK_MS)
        rmSync(lockDir, { recursive: true, force: true });
    } catch {
      /* gone meanwhile */
    }
    return false;
  }
}

function build(key) {
  const tmp = join(cacheDir, `pglite-template.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const env = { ...process.env, DATA_DIR: tmp };
  delete env.DATABASE_URL; // the template is PGlite whatever the test run targets
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/store/migrate-cli.ts'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`template migration failed: ${run.stdout.trim()} ${run.stderr.trim()}`);
  }
  writeFileSync(join(tmp, 'KEY'), key);
  // Swap: the old template goes aside first, so the rename of the new one cannot collide.
  const old = join(cacheDir, `pglite-template.old-${process.pid}`);
  if (existsSync(target)) renameSync(target, old);
  renameSync(tmp, target);
  rmSync(old, { recursive: true, force: true });
}

async function main() {
  const started = Date.now();
  const key = templateKey();
  mkdirSync(cacheDir, { recursive: true });
  let built = false;
  while (!isFresh(key)) {
    if (tryLock()) {
      try {
        if (!isFresh(key)) {
          build(key);
          built = true;
        }
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
    } else {
      await new Promise((r) => setTimeout(r, 200)); // someone else is building it
    }
  }
  console.log(
    JSON.stringify({ template: target, key: key.slice(0, 12), built, ms: Date.now() - started }),
  );
}

await main();
