/**
 * Daily FOCUS 1.0 billing files for the twin's egress charges: one row per link direction and hour
 * (like the hourly data-transfer rows of the FOCUS sample in shared/data/cloud), written when the
 * simulated day ends. Columns are the FOCUS 1.0 sample's, in its order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { SiteConfig } from '../../core/config/index.ts';
import type { TwinEngine } from './model.ts';

export const FOCUS_COLUMNS = [
  'AvailabilityZone',
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'CommitmentDiscountCategory',
  'CommitmentDiscountId',
  'CommitmentDiscountName',
  'CommitmentDiscountStatus',
  'CommitmentDiscountType',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'ContractedUnitPrice',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'ListUnitPrice',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'RegionId',
  'RegionName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'Id',
  'ServiceName',
  'SkuId',
  'SkuPriceId',
  'SubAccountId',
  'SubAccountName',
  'Tags',
  /** FOCUS custom column (x_ prefix): the AWS usage type, as AWS's FOCUS export carries it. */
  'x_UsageType',
] as const;

const PROVIDER: Record<SiteConfig['provider'], { name: string; issuer: string; service: string }> = {
  aws: { name: 'AWS', issuer: 'Amazon Web Services, Inc.', service: 'AWS Data Transfer' },
  gcp: { name: 'Google Cloud', issuer: 'Google LLC', service: 'Networking' },
  azure: { name: 'Microsoft', issuer: 'Microsoft', service: 'Bandwidth' },
  alibaba: { name: 'Alibaba Cloud', issuer: 'Alibaba Cloud', service: 'Cloud Data Transfer' },
  onprem: { name: 'onprem', issuer: 'Transit provider', service: 'IP Transit' },
};

const fmtTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** Collects hourly GB per link direction and writes one CSV per simulated UTC day. */
export class FocusBilling {
  /** hourStart → per link direction GB. */
  private hours = new Map<number, Float64Array>();
  private lastBytes: Float64Array;
  private nextId = 1;

  constructor(
    private readonly engine: TwinEngine,
    private readonly dir: string,
    private readonly account = 'pathpilot-lab',
  ) {
    this.lastBytes = new Float64Array(engine.linkDirs.length);
  }

  /** Books the bytes sent during the tick that started at `tickStart`. */
  record(tickStart: number): void {
    const hour = Math.floor(tickStart / 3_600_000) * 3_600_000;
    let gb = this.hours.get(hour);
    if (!gb) this.hours.set(hour, (gb = new Float64Array(this.engine.linkDirs.length)));
    for (let ld = 0; ld < gb.length; ld++) {
      const now = this.engine.dirBytes[ld]!;
      gb[ld]! += (now - this.lastBytes[ld]!) / 1e9;
      this.lastBytes[ld] = now;
    }
  }

  /** Writes the files of every complete day before `now`; returns their paths. */
  flush(now: number, force = false): string[] {
    const days = new Map<number, number[]>();
    for (const hour of this.hours.keys()) {
      const day = Math.floor(hour / 86_400_000) * 86_400_000;
      if (!force && day + 86_400_000 > now) continue;
      (days.get(day) ?? days.set(day, []).get(day)!).push(hour);
    }
    const files: string[] = [];
    for (const [day, hours] of [...days].sort((a, b) => a[0] - b[0])) {
      hours.sort((a, b) => a - b);
      const rows: (string | number | null)[][] = [];
      for (const hour of hours) {
        rows.push(...this.rowsFor(hour, this.hours.get(hour)!));
        this.hours.delete(hour);
      }
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `focus-${new Date(day).toISOString().slice(0, 10)}.csv`);
      writeFileSync(
        file,
        stringify(rows, { header: true, columns: [...FOCUS_COLUMNS], quoted_string: true, cast: { number: (n) => String(n) } }),
      );
      files.push(file);
    }
    return files;
  }

  private rowsFor(hour: number, gb: Float64Array): (string | number | null)[][] {
    const topo = this.engine.topology;
    const rows: (string | number | null)[][] = [];
    const period = new Date(hour);
    const billStart = Date.UTC(period.getUTCFullYear(), period.getUTCMonth(), 1);
    const billEnd = Date.UTC(period.getUTCFullYear(), period.getUTCMonth() + 1, 1);
    for (let ld = 0; ld < gb.length; ld++) {
      const qty = gb[ld]!;
      if (qty <= 0) continue;
      const L = this.engine.linkDirs[ld]!;
      const link = topo.link(L.link);
      const from = topo.site(L.from);
      const to = topo.site(L.to);
      // The cloud side bills the transfer: the sender when it is a cloud, else the receiving cloud.
      const biller = from.provider !== 'onprem' ? from : to;
      const prov = PROVIDER[biller.provider];
      const cost = Math.round(qty * L.costPerGb * 1e10) / 1e10;
      const sku = `${link.kind.toUpperCase()}-${L.link}`.slice(0, 40);
      const { desc, usageType } = describeTransfer(link.kind, from, to, biller, L.costPerGb);
      rows.push([
        null,
        cost.toFixed(10),
        this.account,
        'pathpilot lab',
        topo.config.policy.currency,
        fmtTime(billEnd),
        fmtTime(billStart),
        'Usage',
        null,
        desc,
        'Usage-Based',
        fmtTime(hour + 3_600_000),
        fmtTime(hour),
        null,
        null,
        null,
        null,
        null,
        qty.toFixed(9),
        'GB',
        cost.toFixed(10),
        String(L.costPerGb),
        cost.toFixed(10),
        prov.issuer,
        cost.toFixed(10),
        String(L.costPerGb),
        'Standard',
        qty.toFixed(9),
        'GB',
        prov.name,
        prov.issuer,
        biller.region,
        biller.name ?? biller.region,
        `pathpilot:link/${L.link}/${L.from}`,
        L.link,
        link.kind === 'interconnect' ? 'Interconnect' : 'VPN Connection',
        'Networking',
        String(this.nextId++),
        prov.service,
        sku,
        `${sku}.${L.from}`,
        biller.id,
        biller.name ?? biller.id,
        JSON.stringify({ pathpilot_link: L.link, src_site: L.from, dst_site: L.to }),
        usageType,
      ]);
    }
    return rows;
  }
}

const AWS_PREFIX: Record<string, string> = {
  'us-east-1': 'USE1',
  'us-east-2': 'USE2',
  'us-west-1': 'USW1',
  'us-west-2': 'USW2',
  'eu-central-1': 'EUC1',
  'eu-west-1': 'EUW1',
  'eu-west-2': 'EUW2',
  'eu-north-1': 'EUN1',
  'ap-northeast-1': 'APN1',
  'ap-southeast-1': 'APS1',
  'ap-southeast-2': 'APS2',
  'ap-east-1': 'APE1',
};

/**
 * The line's description (and AWS usage type) in each provider's own wording, so billing importers
 * classify it as they would a real export: interconnect (Direct Connect, ExpressRoute, Cloud Interconnect,
 * Express Connect), inter-region within one cloud, or internet egress (tunnels to another cloud or site).
 */
function describeTransfer(
  kind: string,
  from: SiteConfig,
  to: SiteConfig,
  biller: SiteConfig,
  price: number,
): { desc: string; usageType: string | null } {
  const per = `$${price} per GB - `;
  const outbound = biller === from;
  const sameCloud = from.provider === to.provider;
  switch (biller.provider) {
    case 'aws': {
      const here = AWS_PREFIX[biller.region] ?? biller.region.toUpperCase();
      if (kind === 'interconnect') {
        return {
          desc: `${per}AWS Direct Connect data transfer ${outbound ? 'out' : 'in'}`,
          usageType: `${here}-DataXfer-${outbound ? 'Out' : 'In'}:dc.1`,
        };
      }
      if (sameCloud && outbound) {
        const there = AWS_PREFIX[to.region] ?? to.region.toUpperCase();
        return {
          desc: `${per}inter-region data transfer ${from.region} to ${to.region}`,
          usageType: `${here}-${there}-AWS-Out-Bytes`,
        };
      }
      return outbound
        ? { desc: `${per}data transfer out to the internet (${from.region})`, usageType: `${here}-DataTransfer-Out-Bytes` }
        : { desc: `${per}data transfer in (${to.region})`, usageType: `${here}-DataTransfer-In-Bytes` };
    }
    case 'azure':
      if (kind === 'interconnect')
        return { desc: `${per}ExpressRoute Metered Data Transfer ${outbound ? 'Out' : 'In'}`, usageType: null };
      if (sameCloud && outbound) return { desc: `${per}Bandwidth Inter-Region Data Transfer Out`, usageType: null };
      return { desc: `${per}Bandwidth Standard Data Transfer ${outbound ? 'Out' : 'In'}`, usageType: null };
    case 'gcp':
      if (kind === 'interconnect') return { desc: `${per}Networking Cloud Interconnect Egress`, usageType: null };
      if (sameCloud && outbound) return { desc: `${per}Network Inter Region Egress`, usageType: null };
      return {
        desc: `${per}Network Internet ${outbound ? 'Egress' : 'Ingress'} from ${from.region} to ${to.region}`,
        usageType: null,
      };
    case 'alibaba':
      if (kind === 'interconnect') return { desc: `${per}Express Connect data transfer`, usageType: null };
      return { desc: `${per}Outbound data transfer (internet egress) from ${from.region}`, usageType: null };
    default:
      return { desc: `${per}IP transit data transfer out from ${from.region} to ${to.region}`, usageType: null };
  }
}
