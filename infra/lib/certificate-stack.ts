import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { StageStack, type StageStackProps } from './stage-stack.js';

/** The API's TLS certificate, validated through the stage's Route 53 zone (no lookup: id and name from config). */
export class CertificateStack extends StageStack {
  readonly certificate: acm.ICertificate;
  readonly zone: route53.IHostedZone;

  constructor(scope: Construct, props: StageStackProps) {
    super(scope, 'Certificate', props, false);
    const { region } = this.target;
    this.zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: region.hostedZone.id,
      zoneName: region.hostedZone.name,
    });
    this.certificate = new acm.Certificate(this, 'ApiCertificate', {
      domainName: region.apiDomain,
      validation: acm.CertificateValidation.fromDns(this.zone),
    });
  }
}
