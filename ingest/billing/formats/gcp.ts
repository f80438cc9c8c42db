import { classifyGcpSku } from '../classify.ts';
import { Columns, buildRecord, identityReader, num, parseTime, val, type RowMapper } from './common.ts';

/**
 * Google Cloud Billing export (the BigQuery standard / detailed usage cost schema), either as JSON
 * lines (nested objects, `credits` an array) or as CSV with the nested fields flattened to dotted
 * column names (`service.description`, `sku.description`, `location.region`, `usage.amount`…).
 * Cost is `cost` plus the (negative) credit amounts.
 */
export const gcpColumns = [
  'billing_account_id',
  'invoice.month',
  'cost_type',
  'service.id',
  'service.description',
  'sku.id',
  'sku.description',
  'usage_start_time',
  'usage_end_time',
  'project.id',
  'location.location',
  'location.region',
  'location.zone',
  'resource.name',
  'resource.global_name',
  'cost',
  'currency',
  'usage.amount',
  'usage.unit',
  'usage.amount_in_pricing_units',
  'usage.pricing_unit',
  'credits',
  'export_time',
  'labels',
  'system_labels',
] as const;

/** Flattens one JSON-lines object to `gcpColumns` order (nested objects by dotted path; arrays as JSON). */
export function flattenGcpJson(obj: Record<string, unknown>): string[] {
  return gcpColumns.map((path) => {
    let v: unknown = obj;
    for (const k of path.split('.')) {
      v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    }
    if (v === undefined || v === null) return '';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  });
}

function creditsTotal(raw: string): number | undefined {
  if (raw === '' || raw === '[]') return 0;
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return undefined;
    let sum = 0;
    for (const c of list) {
      const value = typeof c === 'object' && c !== null ? (c as { amount?: unknown }).amount : undefined;
      // JSON numbers as they are; a string amount must be a decimal (no "0x10").
      const amount = typeof value === 'number' ? value : typeof value === 'string' ? num(value, NaN) : NaN;
      if (!Number.isFinite(amount)) return undefined;
      sum += amount;
    }
    return sum;
  } catch {
    return undefined;
  }
}

/** export_time as epoch ms (the line's version), or undefined (the importer uses the import time). */
function versionOf(text: string): number | undefined {
  if (text === '') return undefined;
  const ms = parseTime(text);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function gcpMapper(header: readonly string[]): RowMapper {
  const c = new Columns('gcp', header);
  const cost = c.req('cost');
  const start = c.req('usage_start_time');
  const end = c.req('usage_end_time');
  const sku = c.req('sku.description');
  c.check();
  const currency = c.opt('currency');
  const service = c.opt('service.description');
  const project = c.opt('project.id');
  const billingAccount = c.opt('billing_account_id');
  const region = c.opt('location.region');
  const location = c.opt('location.location');
  const amount = c.opt('usage.amount');
  const unit = c.opt('usage.unit');
  const pricingAmount = c.opt('usage.amount_in_pricing_units');
  const pricingUnit = c.opt('usage.pricing_unit');
  const credits = c.opt('credits');
  const globalName = c.opt('resource.global_name');
  const resourceName = c.opt('resource.name');
  const exportTime = c.opt('export_time');
  // The standard export has no line id. Its rows are appends: usage reported late for the same SKU
  // and hour comes as another row with a later export_time and adds to the first, so export_time is
  // part of the identity (and the version); re-exporting the same rows gives the same ids.
  const identity = [
    billingAccount,
    c.opt('invoice.month'),
    c.opt('cost_type'),
    c.opt('service.id'),
    c.opt('sku.id'),
    start,
    end,
    project,
    location,
    region,
    c.opt('location.zone'),
    globalName,
    resourceName,
    c.opt('labels'),
    c.opt('system_labels'),
    currency,
    exportTime,
  ];

  const identityText = identityReader('gcp', identity);

  return {
    format: 'gcp',
    columns: [...c.used],
    map(f) {
      const credit = creditsTotal(val(f, credits));
      if (credit === undefined) return { ok: false, reason: 'credits is not a JSON array of {amount}' };
      const here = val(f, region) || val(f, location);
      const pAmount = val(f, pricingAmount);
      return buildRecord({
        format: 'gcp',
        identity: identityText(f),
        version: versionOf(val(f, exportTime)),
        start: parseTime(val(f, start)),
        end: parseTime(val(f, end)),
        provider: 'gcp',
        account: val(f, project) || val(f, billingAccount),
        service: val(f, service),
        region: here,
        transfer: classifyGcpSku(val(f, sku), here || undefined),
        quantity: pAmount !== '' ? pAmount : val(f, amount),
        unit: pAmount !== '' ? val(f, pricingUnit) : val(f, unit),
        cost: val(f, cost),
        costAdjustment: credit,
        currency: val(f, currency) || 'USD',
        resource: val(f, globalName) || val(f, resourceName),
      });
    },
  };
}
