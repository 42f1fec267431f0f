/**
 * The synthesized templates of each stage, compared with the committed snapshot. A change in
 * infra/ that changes a template fails here until the snapshot is refreshed on purpose:
 *   UPDATE_INFRA_SNAPSHOTS=1 node --import tsx --test test/unit/infra/snapshot.test.ts
 * The templates have no assets and no time-dependent values, so they are the same on every machine.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { STAGES } from '../../../infra/lib/config.js';
import { ROOT, synthStage } from '../../helpers/infra.js';

const DIR = resolve(ROOT, 'test/unit/infra/__snapshots__');
const update = process.env.UPDATE_INFRA_SNAPSHOTS === '1';

describe('synthesized templates match the committed snapshots', () => {
  for (const stage of STAGES) {
    it(stage, () => {
      const s = synthStage(stage);
      const templates: Record<string, unknown> = {};
      for (const [kind, stack] of Object.entries(s.stacks)) {
        templates[stack.stackName] = s.template(kind as keyof typeof s.stacks).toJSON();
      }
      const actual = `${JSON.stringify(templates, null, 1)}\n`;
      assert.doesNotMatch(actual, /cdk\.out|\/tmp\/|\/work\//, 'no machine paths in templates');
      const file = resolve(DIR, `${stage}.json`);
      if (update || !existsSync(file)) {
        writeFileSync(file, actual);
        if (!update) assert.fail(`wrote a new snapshot ${file}; commit it and run again`);
        return;
      }
      assert.equal(actual, readFileSync(file, 'utf8'), `templates of ${stage} changed`);
    });
  }
});
