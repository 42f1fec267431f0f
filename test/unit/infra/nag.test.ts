import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGES } from '../../../infra/lib/config.js';
import { acknowledgements, synthStage } from '../../helpers/infra.js';

function findings(report: ReturnType<AwsSolutionsChecks['validateScope']>): string[] {
  return report.violations.flatMap((v) =>
    v.violatingResources.map(
      (r) =>
        `${v.ruleName} at ${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}: ${v.description.slice(0, 80)}`,
    ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  for (const stage of STAGES) {
    it(`${stage}: no unacknowledged finding`, () => {
      const s = synthStage(stage);
      const report = new AwsSolutionsChecks().validateScope(s.app);
      assert.deepEqual(findings(report), []);
      assert.equal(report.success, true);
    });
  }

  it('every acknowledgement names its rule and states a reason', () => {
    // CDK acknowledges some of its own validator rules (CloudFormation-Validate::…); ours are nag's.
    const acks = acknowledgements(synthStage('prod').app).filter((a) =>
      a.id.includes('AwsSolutions'),
    );
    assert.ok(acks.length > 0);
    for (const a of acks) {
      assert.match(a.id, /^Annotation::AwsSolutions-[A-Z]+\d+(\[.+\])?$/, a.path);
      assert.ok(a.reason.length >= 40, `${a.path} ${a.id}: reason too short`);
    }
  });

  it('has no stale acknowledgement: each one silences a finding that exists', () => {
    const s = synthStage('dev');
    const pack = new AwsSolutionsChecks();
    // Re-run the pack as if nothing were acknowledged (a test-side override of its lookup).
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
    const raw = pack
      .validateScope(s.app)
      .violations.flatMap((v) =>
        v.violatingResources.map(
          (r) => `${(r as { constructPath?: string }).constructPath}|${v.ruleName}`,
        ),
      );
    for (const a of acknowledgements(s.app).filter((x) => x.id.includes('AwsSolutions'))) {
      const rule = a.id.replace(/^Annotation::/, '');
      const found = raw.some((f) => {
        const [path = '', ruleName] = f.split('|');
        return ruleName === rule && (path === a.path || path.startsWith(`${a.path}/`));
      });
      assert.ok(found, `${a.path}: ${rule} is acknowledged but never reported`);
    }
  });

  it('does report a finding when one exists (the check is live)', () => {
    const s = synthStage('dev', { fresh: true });
    new s3.Bucket(s.stacks.network as Stack, 'UnencryptedProbe', { enforceSSL: false });
    const report = new AwsSolutionsChecks().validateScope(s.app);
    const rules = report.violations.map((v) => v.ruleName);
    assert.ok(
      rules.some((r) => r.includes('AwsSolutions-S10')),
      rules.join(),
    );
  });
});
