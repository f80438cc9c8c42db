import { awsMapper } from './formats/aws.ts';
import { azureMapper } from './formats/azure.ts';
import type { BillingFormat, RowMapper } from './formats/common.ts';
import { focusMapper } from './formats/focus.ts';
import { gcpMapper } from './formats/gcp.ts';

/** Recognizes a CSV header: FOCUS, legacy CUR, CUR 2.0, GCP (dotted columns) or Azure. */
export function detectFormat(header: readonly string[]): BillingFormat | undefined {
  const names = new Set(header.map((h) => h.trim().toLowerCase()));
  if (names.has('billedcost') && (names.has('providername') || names.has('serviceprovidername'))) return 'focus';
  if (names.has('lineitem/usagetype')) return 'aws-cur';
  if (names.has('line_item_usage_type')) return 'aws-cur2';
  if (names.has('sku.description')) return 'gcp';
  if (names.has('metercategory')) return 'azure';
  return undefined;
}

export function createMapper(format: BillingFormat, header: readonly string[]): RowMapper {
  switch (format) {
    case 'focus':
      return focusMapper(header);
    case 'aws-cur':
    case 'aws-cur2':
      return awsMapper(format, header);
    case 'gcp':
      return gcpMapper(header);
    case 'azure':
      return azureMapper(header);
  }
}
