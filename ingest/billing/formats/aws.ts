import { classifyAwsDescription, classifyAwsTransferType, classifyAwsUsageType, type Transfer } from '../classify.ts';
import { Columns, buildRecord, identityReader, parseTime, val, type BillingFormat, type RowMapper } from './common.ts';

/**
 * AWS Cost and Usage Report: legacy CUR (`lineItem/UsageType`, `product/fromRegionCode`…) and CUR 2.0
 * from Data Exports (`line_item_usage_type`, `product_from_region_code`…, with the remaining product
 * attributes in the `product` map column). Cost is the unblended cost.
 *
 * Identity: not `identity/LineItemId` — AWS documents it as unique only within one report and not
 * consistent between reports, so a restated line would get a new id. The line is identified by
 * payer, billing period, usage account, line item type, time interval, product, usage type,
 * operation, zone, resource, currency, tax type, legal entity, pricing term, RI / Savings Plan ARN
 * and transfer direction (see docs/notes/billing.md).
 */
const names = {
  'aws-cur': {
    start: 'lineItem/UsageStartDate',
    end: 'lineItem/UsageEndDate',
    cost: 'lineItem/UnblendedCost',
    currency: 'lineItem/CurrencyCode',
    amount: 'lineItem/UsageAmount',
    unit: 'pricing/unit',
    usageType: 'lineItem/UsageType',
    productCode: 'lineItem/ProductCode',
    productName: 'product/ProductName',
    region: ['product/regionCode', 'product/region'],
    from: 'product/fromRegionCode',
    to: 'product/toRegionCode',
    transferType: 'product/transferType',
    account: 'lineItem/UsageAccountId',
    resource: 'lineItem/ResourceId',
    description: 'lineItem/LineItemDescription',
    zone: 'lineItem/AvailabilityZone',
    productMap: '',
    identity: [
      'bill/PayerAccountId',
      'bill/BillingPeriodStartDate',
      'lineItem/UsageAccountId',
      'lineItem/LineItemType',
      'identity/TimeInterval',
      'lineItem/UsageStartDate',
      'lineItem/UsageEndDate',
      'lineItem/ProductCode',
      'lineItem/UsageType',
      'lineItem/Operation',
      'lineItem/AvailabilityZone',
      'lineItem/ResourceId',
      'lineItem/CurrencyCode',
      'lineItem/TaxType',
      'lineItem/LegalEntity',
      'pricing/term',
      'reservation/ReservationARN',
      'savingsPlan/SavingsPlanARN',
      'product/fromRegionCode',
      'product/toRegionCode',
    ],
  },
  'aws-cur2': {
    start: 'line_item_usage_start_date',
    end: 'line_item_usage_end_date',
    cost: 'line_item_unblended_cost',
    currency: 'line_item_currency_code',
    amount: 'line_item_usage_amount',
    unit: 'pricing_unit',
    usageType: 'line_item_usage_type',
    productCode: 'line_item_product_code',
    productName: 'product_product_name',
    region: ['product_region_code', 'product_region'],
    from: 'product_from_region_code',
    to: 'product_to_region_code',
    transferType: 'product_transfer_type',
    account: 'line_item_usage_account_id',
    resource: 'line_item_resource_id',
    description: 'line_item_line_item_description',
    zone: 'line_item_availability_zone',
    productMap: 'product',
    identity: [
      'bill_payer_account_id',
      'bill_billing_period_start_date',
      'line_item_usage_account_id',
      'line_item_line_item_type',
      'identity_time_interval',
      'line_item_usage_start_date',
      'line_item_usage_end_date',
      'line_item_product_code',
      'line_item_usage_type',
      'line_item_operation',
      'line_item_availability_zone',
      'line_item_resource_id',
      'line_item_currency_code',
      'line_item_tax_type',
      'line_item_legal_entity',
      'pricing_term',
      'reservation_reservation_a_r_n',
      'savings_plan_savings_plan_a_r_n',
      'product_from_region_code',
      'product_to_region_code',
    ],
  },
} as const;

function productMap(raw: string): Record<string, unknown> | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function awsMapper(format: Extract<BillingFormat, 'aws-cur' | 'aws-cur2'>, header: readonly string[]): RowMapper {
  const n = names[format];
  const c = new Columns(format, header);
  const start = c.req(n.start);
  const end = c.req(n.end);
  const cost = c.req(n.cost);
  const usageType = c.req(n.usageType);
  c.check();
  const currency = c.opt(n.currency);
  const amount = c.opt(n.amount);
  const unit = c.opt(n.unit);
  const productCode = c.opt(n.productCode);
  const productName = c.opt(n.productName);
  const region = c.opt(...n.region);
  const from = c.opt(n.from);
  const to = c.opt(n.to);
  const transferType = c.opt(n.transferType);
  const account = c.opt(n.account);
  const resource = c.opt(n.resource);
  const description = c.opt(n.description);
  const zone = c.opt(n.zone);
  const product = n.productMap ? c.opt(n.productMap) : -1;
  const identity = n.identity.map((name) => c.opt(name));

  const identityText = identityReader(format, identity);

  return {
    format,
    columns: [...c.used],
    map(f) {
      const az = val(f, zone);
      const pm = product >= 0 ? productMap(val(f, product)) : undefined;
      const here = val(f, region) || (az ? az.replace(/[a-z]$/, '') : '') || String(pm?.region ?? '');
      const ut = val(f, usageType);
      let transfer: Transfer | undefined = classifyAwsUsageType(ut, here || undefined);
      const tt = val(f, transferType) || String(pm?.transfer_type ?? '');
      const ttCategory = tt ? classifyAwsTransferType(tt) : undefined;
      if (!transfer && ttCategory) transfer = { category: ttCategory, src: here || undefined };
      if (!transfer) transfer = classifyAwsDescription(val(f, description), here || undefined);
      const fromRegion = val(f, from) || String(pm?.from_region_code ?? '');
      const toRegion = val(f, to) || String(pm?.to_region_code ?? '');
      if (transfer && transfer.category !== 'other') {
        if (fromRegion) transfer.src = fromRegion;
        if (toRegion) transfer.dst = toRegion;
      }
      return buildRecord({
        format,
        identity: identityText(f),
        start: parseTime(val(f, start)),
        end: parseTime(val(f, end)),
        provider: 'aws',
        account: val(f, account),
        service: val(f, productName) || String(pm?.product_name ?? '') || val(f, productCode),
        region: here,
        transfer,
        quantity: val(f, amount),
        unit: val(f, unit),
        cost: val(f, cost),
        currency: val(f, currency) || 'USD',
        resource: val(f, resource),
      });
    },
  };
}
