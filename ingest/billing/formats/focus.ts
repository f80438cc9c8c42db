import {
  classifyAwsDescription,
  classifyAwsUsageType,
  classifyAzureMeter,
  classifyGcpSku,
  classifyGeneric,
  type Transfer,
} from '../classify.ts';
import { normalizeAzureRegion } from '../regions.ts';
import { Columns, buildRecord, identityReader, normalizeProvider, parseTime, val, type RowMapper } from './common.ts';

/**
 * FOCUS 1.0 / 1.1 / 1.2 (FinOps Open Cost and Usage Specification). BilledCost is the cost;
 * ChargePeriodStart/End the usage interval; ProviderName (1.2: ServiceProviderName) the provider.
 * Provider extension columns are used when present: AWS `x_UsageType`, Azure `x_SkuMeterCategory`,
 * `x_SkuMeterSubcategory`, `x_SkuMeterName`.
 */
export function focusMapper(header: readonly string[]): RowMapper {
  const c = new Columns('focus', header);
  const cost = c.req('BilledCost');
  const start = c.req('ChargePeriodStart');
  const end = c.req('ChargePeriodEnd');
  const provider = c.req('ServiceProviderName', 'ProviderName');
  const currency = c.req('BillingCurrency');
  c.check();
  const consumedQty = c.opt('ConsumedQuantity');
  const consumedUnit = c.opt('ConsumedUnit');
  const pricingQty = c.opt('PricingQuantity');
  const pricingUnit = c.opt('PricingUnit');
  const regionId = c.opt('RegionId');
  const regionName = c.opt('RegionName');
  const subAccount = c.opt('SubAccountId');
  const billingAccount = c.opt('BillingAccountId');
  const service = c.opt('ServiceName');
  const resource = c.opt('ResourceId');
  const description = c.opt('ChargeDescription');
  const chargeCategory = c.opt('ChargeCategory');
  const usageType = c.opt('x_UsageType');
  const meterCategory = c.opt('x_SkuMeterCategory');
  const meterSub = c.opt('x_SkuMeterSubcategory');
  const meterName = c.opt('x_SkuMeterName');
  // What makes a FOCUS row this charge (FOCUS 1.0-1.2 define no line id column); never the amounts.
  const identity = [
    billingAccount,
    subAccount,
    provider,
    c.opt('InvoiceIssuerName'),
    c.opt('BillingPeriodStart'),
    start,
    end,
    chargeCategory,
    c.opt('ChargeClass'),
    c.opt('ChargeFrequency'),
    service,
    c.opt('SkuId'),
    c.opt('SkuPriceId'),
    resource,
    regionId,
    c.opt('AvailabilityZone'),
    c.opt('PricingCategory'),
    pricingUnit,
    c.opt('CommitmentDiscountId'),
    c.opt('CommitmentDiscountStatus'),
    c.opt('CapacityReservationId'),
    currency,
    usageType,
    c.opt('x_Operation'),
    meterCategory,
    meterSub,
    meterName,
  ];

  const identityText = identityReader('focus', identity);

  return {
    format: 'focus',
    columns: [...c.used],
    map(f) {
      const prov = normalizeProvider(val(f, provider));
      let region = val(f, regionId) || val(f, regionName);
      if (prov === 'azure') region = normalizeAzureRegion(region);
      let transfer: Transfer | undefined;
      if (val(f, chargeCategory) !== 'Credit') {
        const desc = val(f, description);
        if (prov === 'aws') {
          const ut = val(f, usageType);
          transfer = (ut && classifyAwsUsageType(ut, region)) || classifyAwsDescription(desc, region);
        } else if (prov === 'azure') {
          transfer = classifyAzureMeter(`${val(f, meterCategory)} ${val(f, meterSub)} ${val(f, meterName)} ${desc}`, region);
        } else if (prov === 'gcp') {
          transfer = classifyGcpSku(desc, region);
        } else {
          transfer = classifyGeneric(`${desc} ${val(f, service)}`, region);
        }
      }
      const consumed = val(f, consumedQty);
      return buildRecord({
        format: 'focus',
        identity: identityText(f),
        start: parseTime(val(f, start)),
        end: parseTime(val(f, end)),
        provider: prov,
        account: val(f, subAccount) || val(f, billingAccount),
        service: val(f, service),
        region,
        transfer,
        quantity: consumed !== '' ? consumed : val(f, pricingQty),
        unit: consumed !== '' ? val(f, consumedUnit) : val(f, pricingUnit),
        cost: val(f, cost),
        currency: val(f, currency),
        resource: val(f, resource),
      });
    },
  };
}
