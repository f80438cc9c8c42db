import { describe, expect, it } from 'vitest';
import {
  classifyAwsDescription,
  classifyAwsTransferType,
  classifyAwsUsageType,
  classifyAzureMeter,
  classifyGcpSku,
  classifyGeneric,
} from './classify.ts';
import { awsRegionFromName, normalizeAzureRegion } from './regions.ts';

describe('AWS usage types', () => {
  it.each([
    ['USE1-EUC1-AWS-Out-Bytes', 'us-east-1', { category: 'inter-region', src: 'us-east-1', dst: 'eu-central-1' }],
    ['EUC1-USE1-AWS-In-Bytes', 'eu-central-1', { category: 'inter-region', src: 'us-east-1', dst: 'eu-central-1' }],
    ['EUN1-AWS-Out-Bytes', undefined, { category: 'inter-region', src: 'eu-north-1', dst: undefined }],
    ['DataTransfer-Out-Bytes', 'us-east-1', { category: 'internet-egress', src: 'us-east-1' }],
    ['APN1-DataTransfer-Out-Bytes', undefined, { category: 'internet-egress', src: 'ap-northeast-1' }],
    ['USE1-DataTransfer-Regional-Bytes', undefined, { category: 'inter-zone', src: 'us-east-1' }],
    ['EUC1-DataTransfer-xAZ-Out-Bytes', undefined, { category: 'inter-zone', src: 'eu-central-1' }],
    ['USE1-DataXfer-Out:dc.1', undefined, { category: 'interconnect', src: 'us-east-1', dst: undefined }],
    ['USE1-CloudFront-Out-Bytes', undefined, { category: 'other', src: 'us-east-1' }],
    ['USW2-DataTransfer-In-Bytes', undefined, { category: 'other', dst: 'us-west-2' }],
  ] as const)('%s', (usageType, region, expected) => {
    expect(classifyAwsUsageType(usageType, region)).toEqual(expected);
  });

  it('leaves non-transfer usage types alone', () => {
    expect(classifyAwsUsageType('BoxUsage:m5.large', 'us-east-1')).toBeUndefined();
    expect(classifyAwsUsageType('EUC1-TimedStorage-ByteHrs', 'eu-central-1')).toBeUndefined();
    expect(classifyAwsUsageType('EUC1-NatGateway-Bytes', 'eu-central-1')).toBeUndefined();
  });

  it('reads transfer types', () => {
    expect(classifyAwsTransferType('InterRegion Outbound')).toBe('inter-region');
    expect(classifyAwsTransferType('IntraRegion')).toBe('inter-zone');
    expect(classifyAwsTransferType('AWS Outbound')).toBe('internet-egress');
    expect(classifyAwsTransferType('AWS Inbound')).toBe('other');
  });
});

describe('AWS descriptions (FOCUS ChargeDescription)', () => {
  it.each([
    [
      '$0.02 per GB - US West (Oregon) data transfer to US East (Northern Virginia)',
      'us-west-2',
      { category: 'inter-region', src: 'us-west-2', dst: 'us-east-1' },
    ],
    [
      '$0.00 per GB - US West (Oregon) data transfer from Asia Pacific (Singapore)',
      'us-west-2',
      { category: 'inter-region', src: 'ap-southeast-1', dst: 'us-west-2' },
    ],
    [
      '$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier',
      'us-east-1',
      { category: 'internet-egress', src: 'us-east-1' },
    ],
    [
      '$0.010 per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs or ELB',
      'us-east-1',
      { category: 'inter-zone', src: 'us-east-1' },
    ],
    ['$0.000 per GB - data transfer in per month', 'us-west-2', { category: 'other', dst: 'us-west-2' }],
    [
      '$0.00 per GB data transfer out of US East (Northern Virginia) to CloudFront',
      'us-east-1',
      { category: 'other', src: 'us-east-1' },
    ],
    [
      'USD 0.02 per GB for EUN1-AWS-Out-Bytes in EU (Stockholm)',
      'us-west-2',
      { category: 'inter-region', src: 'eu-north-1', dst: undefined },
    ],
    [
      'USD 0.09 per GB for DataTransfer-Out-Bytes in EU (Stockholm)',
      'eu-north-1',
      { category: 'internet-egress', src: 'eu-north-1' },
    ],
  ] as const)('%s', (description, region, expected) => {
    expect(classifyAwsDescription(description, region)).toEqual(expected);
  });

  it('leaves other lines alone', () => {
    expect(classifyAwsDescription('$0.096 per On Demand Linux m5.large Instance Hour', 'us-east-1')).toBeUndefined();
  });

  it('maps display names to region codes', () => {
    expect(awsRegionFromName('EU (Germany)')).toBe('eu-central-1');
    expect(awsRegionFromName('Canada (Central)')).toBe('ca-central-1');
    expect(awsRegionFromName('Middle East (Central)')).toBeUndefined();
  });
});

describe('Azure meters, GCP SKUs, others', () => {
  it('classifies Azure bandwidth and ExpressRoute meters', () => {
    expect(classifyAzureMeter('Bandwidth Inter-Region Intra Continent Data Transfer Out', 'westeurope')?.category).toBe(
      'inter-region',
    );
    expect(classifyAzureMeter('Bandwidth Rtn Preference: MGN Standard Data Transfer Out', 'westeurope')?.category).toBe(
      'internet-egress',
    );
    expect(
      classifyAzureMeter('ExpressRoute Metered Data Standard Metered Data - Data Transfer Out', 'westeurope')?.category,
    ).toBe('interconnect');
    expect(classifyAzureMeter('Bandwidth Inter-Availability Zone Inter-Availability Zone Data Transfer Out', 'x')?.category).toBe(
      'inter-zone',
    );
    expect(classifyAzureMeter('Bandwidth  Data Transfer In', 'westeurope')).toEqual({ category: 'other', dst: 'westeurope' });
    expect(classifyAzureMeter('Virtual Machines Dsv5 Series D2s v5', 'westeurope')).toBeUndefined();
    expect(normalizeAzureRegion('West Europe')).toBe('westeurope');
  });

  it('classifies GCP network SKUs', () => {
    expect(classifyGcpSku('Network Internet Egress from Americas to EMEA', 'us-central1')).toEqual({
      category: 'internet-egress',
      src: 'us-central1',
    });
    expect(classifyGcpSku('Network Inter Region Egress from Americas to Americas', 'us-central1')?.category).toBe('inter-region');
    expect(classifyGcpSku('Network Inter Zone Egress', 'us-central1')?.category).toBe('inter-zone');
    expect(classifyGcpSku('Network Egress via Carrier Peering Network - Americas Based', 'us-central1')?.category).toBe(
      'interconnect',
    );
    expect(classifyGcpSku('N2 Instance Core running in Americas', 'us-central1')).toBeUndefined();
  });

  it('classifies Oracle-style outbound transfer', () => {
    expect(classifyGeneric('Outbound Data Transfer Zone 1 NETWORK', 'us-sanjose-1')?.category).toBe('internet-egress');
    expect(classifyGeneric('FastConnect data transfer', 'eu-frankfurt-1')?.category).toBe('interconnect');
    expect(classifyGeneric('Standard - E3 - Memory COMPUTE', undefined)).toBeUndefined();
  });
});
