import type { CostCategory } from '../../core/records/index.ts';
import { awsRegionFromName, awsRegionFromPrefix } from './regions.ts';

/**
 * Data-transfer classification: which kind of transfer a billing line is, and between which
 * regions. Each provider names transfers differently; the rules below follow the providers'
 * published usage types, meter names and SKU descriptions (see docs/notes/ingest-probe-billing.md).
 */
export interface Transfer {
  category: CostCategory;
  src?: string;
  dst?: string;
}

const awsRegionCode = '[A-Z]{2,4}\\d?';
const awsInterRegion = new RegExp(`^(?:(${awsRegionCode})-)?(?:(${awsRegionCode})-)?AWS-(In|Out)-(?:Bytes|ABytes)`);
const awsPrefix = new RegExp(`^(${awsRegionCode})-`);

/**
 * AWS `lineItem/UsageType` (e.g. `USE1-EUC1-AWS-Out-Bytes`, `EUC1-DataTransfer-Out-Bytes`,
 * `USE1-DataTransfer-Regional-Bytes`, `USE1-DataXfer-Out:dc.1`). `region` is the line's region,
 * used when the usage type has no prefix (us-east-1 lines often have none).
 */
export function classifyAwsUsageType(usageType: string, region?: string): Transfer | undefined {
  if (!usageType.includes('Bytes') && !usageType.includes('DataXfer')) return undefined;
  const inter = awsInterRegion.exec(usageType);
  if (inter) {
    const a = inter[1] ? awsRegionFromPrefix(inter[1]) : undefined;
    const b = inter[2] ? awsRegionFromPrefix(inter[2]) : undefined;
    const here = a ?? region;
    if (inter[3] === 'Out') return { category: 'inter-region', src: here, dst: b };
    return { category: 'inter-region', src: b, dst: here };
  }
  const prefix = awsPrefix.exec(usageType);
  const here = (prefix && awsRegionFromPrefix(prefix[1]!)) ?? region;
  if (usageType.includes('DataXfer-')) {
    const codes = usageType.split('-').slice(0, 2).map(awsRegionFromPrefix);
    return { category: 'interconnect', src: codes[0] ?? region, dst: codes[1] };
  }
  if (/CloudFront-(In|Out)-Bytes/.test(usageType)) return { category: 'other', src: here };
  if (/DataTransfer-(Regional|xAZ-(In|Out))-Bytes/.test(usageType)) return { category: 'inter-zone', src: here };
  if (usageType.includes('DataTransfer-Out-Bytes')) return { category: 'internet-egress', src: here };
  if (usageType.includes('DataTransfer-In-Bytes')) return { category: 'other', dst: here };
  return undefined;
}

/** AWS `product/transferType` (legacy CUR) or the `transfer_type` key of CUR 2.0's `product` map. */
export function classifyAwsTransferType(transferType: string): CostCategory | undefined {
  const t = transferType.toLowerCase();
  if (t.startsWith('interregion')) return 'inter-region';
  if (t.startsWith('intraregion')) return 'inter-zone';
  if (t === 'aws outbound') return 'internet-egress';
  if (t === 'aws inbound') return 'other';
  if (t.includes('direct connect')) return 'interconnect';
  return undefined;
}

const awsTokenInText = /\b([A-Z0-9]+-)*(AWS-(In|Out)-Bytes|DataTransfer-[A-Za-z-]*Bytes|DataXfer-(In|Out)[\w:.]*)/;

/** AWS line descriptions, as FOCUS `ChargeDescription` and CUR `lineItem/LineItemDescription` carry them. */
const awsTransferHint = /transfer|bytes|direct connect/i;

export function classifyAwsDescription(description: string, region?: string): Transfer | undefined {
  if (!awsTransferHint.test(description)) return undefined;
  const d = description.toLowerCase();
  const token = awsTokenInText.exec(description);
  if (token) return classifyAwsUsageType(token[0], region);
  if (d.includes('direct connect')) return { category: 'interconnect', src: region };
  if (d.includes('cloudfront')) return { category: 'other', src: region };
  if (/regional data transfer|between (ec2 )?azs|between availability zones|inter-az/.test(d)) {
    return { category: 'inter-zone', src: region };
  }
  // "$0.02 per GB - US West (Oregon) data transfer to US East (Northern Virginia)"
  const to = /- (.+?\)) data transfer to (.+?\))/i.exec(description);
  if (to) return { category: 'inter-region', src: awsRegionFromName(to[1]!) ?? region, dst: awsRegionFromName(to[2]!) };
  // "$0.00 per GB - US West (Oregon) data transfer from Asia Pacific (Singapore)"
  const from = /- (.+?\)) data transfer from (.+?\))/i.exec(description);
  if (from) {
    return { category: 'inter-region', src: awsRegionFromName(from[2]!), dst: awsRegionFromName(from[1]!) ?? region };
  }
  if (d.includes('data transfer in')) return { category: 'other', dst: region };
  if (d.includes('data transfer out')) return { category: 'internet-egress', src: region };
  return undefined;
}

/**
 * Azure meters (`MeterCategory` / `MeterSubCategory` / `MeterName`), e.g. Bandwidth "Inter-Region" /
 * "Intra Continent Data Transfer Out", Bandwidth "Standard Data Transfer Out", ExpressRoute
 * "Metered Data", Virtual Network "Inter-Availability Zone Data Transfer".
 */
export function classifyAzureMeter(text: string, region?: string): Transfer | undefined {
  const t = text.toLowerCase();
  const transfer = /data transfer|egress|metered data|bandwidth|peering/.test(t);
  if (!transfer) return undefined;
  if (t.includes('expressroute')) return { category: 'interconnect', src: region };
  if (/inter-availability zone|inter availability zone|cross-zone|between availability zones/.test(t)) {
    return { category: 'inter-zone', src: region };
  }
  if (/inter-region|inter region|intra continent|inter continent|global vnet peering|cross-region/.test(t)) {
    return { category: 'inter-region', src: region };
  }
  if (/data transfer in\b|ingress/.test(t)) return { category: 'other', dst: region };
  if (/data transfer out|egress/.test(t)) return { category: 'internet-egress', src: region };
  return undefined;
}

/**
 * GCP SKU descriptions, e.g. "Network Internet Egress from Americas to EMEA", "Network Inter Region
 * Egress from Americas to Americas", "Network Inter Zone Egress", "Network Egress via Carrier Peering
 * Network - Americas Based", "Networking Cloud Interconnect Egress".
 */
export function classifyGcpSku(description: string, region?: string): Transfer | undefined {
  const d = description.toLowerCase();
  if (!/egress|data transfer|ingress/.test(d)) return undefined;
  if (/interconnect|peering/.test(d)) return { category: 'interconnect', src: region };
  if (/inter zone|inter-zone|intra region|intra-region/.test(d)) return { category: 'inter-zone', src: region };
  if (/inter region|inter-region|between regions/.test(d)) return { category: 'inter-region', src: region };
  if (/ingress/.test(d) && !/egress/.test(d)) return { category: 'other', dst: region };
  if (/internet|egress|data transfer out/.test(d)) return { category: 'internet-egress', src: region };
  return undefined;
}

/** Providers with no specific rules (Oracle, Alibaba…): FastConnect/interconnect and outbound transfer. */
export function classifyGeneric(text: string, region?: string): Transfer | undefined {
  const t = text.toLowerCase();
  if (!/transfer|egress|bandwidth/.test(t)) return undefined;
  if (/fastconnect|interconnect|express connect|direct connect/.test(t)) return { category: 'interconnect', src: region };
  if (/inter[- ]?region|cross[- ]region/.test(t)) return { category: 'inter-region', src: region };
  if (/inter[- ]?zone|cross[- ]zone/.test(t)) return { category: 'inter-zone', src: region };
  if (/outbound|egress|data transfer out/.test(t)) return { category: 'internet-egress', src: region };
  return undefined;
}
