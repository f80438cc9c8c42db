import { classifyAzureMeter } from '../classify.ts';
import { normalizeAzureRegion } from '../regions.ts';
import { Columns, buildRecord, identityReader, parseTime, val, type RowMapper } from './common.ts';

const dayMs = 86_400_000;

/**
 * Azure Cost Management exports (EA / MCA "actual cost" or "amortized cost" CSV, PascalCase or the
 * newer camelCase headers: the lookup is case-insensitive). One row is one meter on one day; cost
 * is CostInBillingCurrency (older EA exports: Cost / PreTaxCost).
 */
export function azureMapper(header: readonly string[]): RowMapper {
  const c = new Columns('azure', header);
  const date = c.req('Date', 'UsageDate');
  const cost = c.req('CostInBillingCurrency', 'Cost', 'PreTaxCost');
  const meterCategory = c.req('MeterCategory');
  c.check();
  const currency = c.opt('BillingCurrencyCode', 'BillingCurrency', 'Currency');
  const meterSub = c.opt('MeterSubCategory', 'MeterSubcategory');
  const meterName = c.opt('MeterName');
  const meterRegion = c.opt('MeterRegion');
  const location = c.opt('ResourceLocation');
  const quantity = c.opt('Quantity', 'UsageQuantity', 'ConsumedQuantity');
  const unit = c.opt('UnitOfMeasure', 'Unit');
  const subscription = c.opt('SubscriptionId', 'SubscriptionGuid');
  const resource = c.opt('ResourceId', 'InstanceId');
  // Azure cost details have no stable line id: the line is its scope, day, meter, resource and charge.
  const identity = [
    c.opt('BillingAccountId'),
    c.opt('BillingProfileId'),
    c.opt('InvoiceSectionId'),
    subscription,
    c.opt('BillingPeriodStartDate'),
    date,
    c.opt('MeterId'),
    meterCategory,
    meterSub,
    meterName,
    meterRegion,
    resource,
    location,
    c.opt('ChargeType'),
    c.opt('PricingModel'),
    c.opt('Frequency'),
    c.opt('ReservationId'),
    c.opt('BenefitId'),
    c.opt('ProductOrderId'),
    c.opt('PublisherName'),
    unit,
    currency,
  ];

  const identityText = identityReader('azure', identity);

  return {
    format: 'azure',
    columns: [...c.used],
    map(f) {
      const day = parseTime(val(f, date));
      const here = normalizeAzureRegion(val(f, location) || val(f, meterRegion));
      const meter = `${val(f, meterCategory)} ${val(f, meterSub)} ${val(f, meterName)}`;
      return buildRecord({
        format: 'azure',
        identity: identityText(f),
        start: day,
        end: day + dayMs,
        provider: 'azure',
        account: val(f, subscription),
        service: val(f, meterCategory),
        region: here,
        transfer: classifyAzureMeter(meter, here || undefined),
        quantity: val(f, quantity),
        unit: val(f, unit),
        cost: val(f, cost),
        currency: val(f, currency),
        resource: val(f, resource),
      });
    },
  };
}
