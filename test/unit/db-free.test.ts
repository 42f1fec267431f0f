/**
 * The unit suite runs once in CI, on PGlite only (.ci/run): that is sound only while no unit test
 * reaches a database or a process that holds one. This test keeps it so.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const UNIT = join(import.meta.dirname);
const DB_HELPERS = /from '(?:\.\.\/)+helpers\/(db|app|enclave-process)\.js'|store\/db\.js'/;

describe('unit tests are database-free', () => {
  it('no unit test imports the database, the test app or the enclave process helpers', () => {
    const files = readdirSync(UNIT, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.ts'));
    assert.ok(files.length > 50, 'the unit suite was found');
    // the pattern does catch such an import (an integration test has one)
    const integration = readFileSync(join(UNIT, '../integration/api/jobs.test.ts'), 'utf8');
    assert.ok(DB_HELPERS.test(integration));
    const offenders = files.filter((f) => DB_HELPERS.test(readFileSync(join(UNIT, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});
