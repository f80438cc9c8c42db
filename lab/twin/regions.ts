/**
 * Real inter-region figures for the twin: RTT (Skyplane ping grid) and egress $/GB (Skyplane price table),
 * carried in lab/twin/data/regions.json (see data/SOURCES.md). Sites are placed at a measured region;
 * Alibaba Cloud and on-prem sites have no rows and use the closest measured region.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SiteConfig } from '../../core/config/index.ts';
import { ValidationError } from '../../core/errors.ts';

interface RegionTable {
  regions: string[];
  rtt_avg_ms: (number | null)[][];
  rtt_mdev_ms: (number | null)[][];
  egress_usd_per_gb: (number | null)[][];
}

let table: { data: RegionTable; index: Map<string, number> } | undefined;

function load() {
  if (!table) {
    const file = join(dirname(fileURLToPath(import.meta.url)), 'data', 'regions.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as RegionTable;
    table = { data, index: new Map(data.regions.map((r, i) => [r, i])) };
  }
  return table;
}

/** Measured regions, `provider:region` (GCP without zone). */
export function measuredRegions(): string[] {
  return [...load().data.regions];
}

/** RTT used inside one region (the table has no same-region rows). */
export const INTRA_REGION_RTT_MS = 1.5;

/** Alibaba Cloud regions → the closest measured region (same city where one exists). */
export const alibabaProxy: Record<string, string> = {
  'cn-hongkong': 'aws:ap-east-1',
  'cn-shenzhen': 'aws:ap-east-1',
  'cn-guangzhou': 'aws:ap-east-1',
  'cn-shanghai': 'azure:eastasia',
  'cn-hangzhou': 'azure:eastasia',
  'cn-beijing': 'gcp:asia-northeast3',
  'ap-southeast-1': 'aws:ap-southeast-1',
  'ap-southeast-3': 'aws:ap-southeast-1',
  'ap-southeast-5': 'aws:ap-southeast-3',
  'ap-northeast-1': 'aws:ap-northeast-1',
  'ap-northeast-2': 'aws:ap-northeast-2',
  'ap-south-1': 'aws:ap-south-1',
  'eu-central-1': 'aws:eu-central-1',
  'eu-west-1': 'aws:eu-west-2',
  'us-east-1': 'aws:us-east-1',
  'us-west-1': 'aws:us-west-1',
  'me-east-1': 'azure:uaenorth',
};

/** On-prem locations (free text in the config) → a measured region in the same metro. */
export const onpremProxy: Record<string, string> = {
  'us-east': 'aws:us-east-1',
  'us-central': 'gcp:us-central1',
  'us-west': 'aws:us-west-1',
  'eu-central': 'aws:eu-central-1',
  'eu-west': 'aws:eu-west-1',
  'eu-north': 'aws:eu-north-1',
  uk: 'aws:eu-west-2',
  'ap-east': 'aws:ap-east-1',
  'ap-southeast': 'aws:ap-southeast-1',
  'ap-northeast': 'aws:ap-northeast-1',
};

/** The measured region a site is placed at; `override` (from a scenario) wins. */
export function measuredRegionOf(site: SiteConfig, override?: string): string {
  const { index } = load();
  let key: string | undefined;
  if (override) key = override;
  else if (site.provider === 'alibaba') key = alibabaProxy[site.region];
  else if (site.provider === 'onprem') key = onpremProxy[site.region] ?? (index.has(site.region) ? site.region : undefined);
  else key = `${site.provider}:${site.provider === 'gcp' ? site.region.replace(/-[a-z]$/, '') : site.region}`;
  if (!key || !index.has(key)) {
    throw new ValidationError(
      `site "${site.id}" (${site.provider} ${site.region}) has no measured region` +
        (key ? ` ("${key}" is not in the table)` : '') +
        '; set sites.<id>.measured_region in the scenario to one of lab/twin/data/regions.json',
    );
  }
  return key;
}

/** Mean RTT and its mdev between two measured regions (ms). */
export function regionRtt(a: string, b: string): { avg: number; mdev: number } {
  if (a === b) return { avg: INTRA_REGION_RTT_MS, mdev: 0.1 };
  const { data, index } = load();
  const i = index.get(a);
  const j = index.get(b);
  const avg = i !== undefined && j !== undefined ? data.rtt_avg_ms[i]![j] : null;
  if (avg === null || avg === undefined) throw new ValidationError(`no RTT measured between ${a} and ${b}`);
  return { avg, mdev: data.rtt_mdev_ms[i!]![j!] ?? 0.3 };
}

/** Listed egress price USD/GB from region a to region b, or undefined when not listed. */
export function regionEgressPrice(a: string, b: string): number | undefined {
  const { data, index } = load();
  const i = index.get(a);
  const j = index.get(b);
  if (i === undefined || j === undefined) return undefined;
  return data.egress_usd_per_gb[i]![j] ?? undefined;
}

/** Rough UTC offset (hours) of a measured region, for the daily demand cycle. */
export function utcOffsetHours(region: string): number {
  const r = region.toLowerCase();
  const rules: [RegExp, number][] = [
    [/us-west|westus|us-west1|us-west4/, -8],
    [/us-central|northcentralus|us-central1/, -6],
    [/us-east|eastus|ca-central|canadacentral|northamerica/, -5],
    [/sa-east|brazil|southamerica/, -3],
    [/eu-west-1|eu-west-2|uksouth|northeurope|europe-west2/, 0],
    [/eu-|europe|westeurope|germany|france|switzerland|norway|sweden/, 1],
    [/af-south|southafrica/, 2],
    [/me-south|uae/, 4],
    [/ap-south-|centralindia|asia-south/, 5.5],
    [/ap-southeast-3|asia-southeast2/, 7],
    [/ap-east|eastasia|asia-east|ap-southeast-1|asia-southeast1/, 8],
    [/ap-northeast|japan|korea|asia-northeast/, 9],
    [/ap-southeast-2|australia/, 10],
  ];
  for (const [re, off] of rules) if (re.test(r)) return off;
  return 0;
}
