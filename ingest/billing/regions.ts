/**
 * Region names as billing exports spell them, normalized to the region codes the topology uses
 * (`sites[].region`): AWS usage-type prefixes (USE1, EUC1…), AWS display names (US West (Oregon)),
 * Azure display names (West Europe → westeurope).
 */

/** AWS usage-type region prefixes (the part before the first `-` in `lineItem/UsageType`). */
export const awsRegionByPrefix: Readonly<Record<string, string>> = {
  USE1: 'us-east-1',
  USE2: 'us-east-2',
  USW1: 'us-west-1',
  USW2: 'us-west-2',
  CAN1: 'ca-central-1',
  CAN2: 'ca-west-1',
  EU: 'eu-west-1',
  EUW1: 'eu-west-1',
  EUW2: 'eu-west-2',
  EUW3: 'eu-west-3',
  EUC1: 'eu-central-1',
  EUC2: 'eu-central-2',
  EUN1: 'eu-north-1',
  EUS1: 'eu-south-1',
  EUS2: 'eu-south-2',
  APN1: 'ap-northeast-1',
  APN2: 'ap-northeast-2',
  APN3: 'ap-northeast-3',
  APS1: 'ap-southeast-1',
  APS2: 'ap-southeast-2',
  APS3: 'ap-south-1',
  APS4: 'ap-southeast-3',
  APS5: 'ap-south-2',
  APS6: 'ap-southeast-4',
  APE1: 'ap-east-1',
  SAE1: 'sa-east-1',
  MES1: 'me-south-1',
  MEC1: 'me-central-1',
  AFS1: 'af-south-1',
  ILC1: 'il-central-1',
  UGW1: 'us-gov-west-1',
  UGE1: 'us-gov-east-1',
};

/** AWS display names by the city (or qualifier) in parentheses, lowercased. */
const awsRegionByCity: Readonly<Record<string, string>> = {
  'n. virginia': 'us-east-1',
  'northern virginia': 'us-east-1',
  ohio: 'us-east-2',
  'n. california': 'us-west-1',
  'northern california': 'us-west-1',
  oregon: 'us-west-2',
  central: 'ca-central-1',
  calgary: 'ca-west-1',
  ireland: 'eu-west-1',
  london: 'eu-west-2',
  paris: 'eu-west-3',
  frankfurt: 'eu-central-1',
  germany: 'eu-central-1',
  zurich: 'eu-central-2',
  stockholm: 'eu-north-1',
  milan: 'eu-south-1',
  spain: 'eu-south-2',
  tokyo: 'ap-northeast-1',
  seoul: 'ap-northeast-2',
  osaka: 'ap-northeast-3',
  singapore: 'ap-southeast-1',
  sydney: 'ap-southeast-2',
  mumbai: 'ap-south-1',
  jakarta: 'ap-southeast-3',
  hyderabad: 'ap-south-2',
  melbourne: 'ap-southeast-4',
  'hong kong': 'ap-east-1',
  'sao paulo': 'sa-east-1',
  bahrain: 'me-south-1',
  uae: 'me-central-1',
  'cape town': 'af-south-1',
  'tel aviv': 'il-central-1',
  'us-west': 'us-gov-west-1',
  'us-east': 'us-gov-east-1',
};

/** `US West (Oregon)` → `us-west-2`; undefined when the name is not an AWS region. */
export function awsRegionFromName(name: string): string | undefined {
  const m = /\(([^)]+)\)/.exec(name);
  if (!m) return undefined;
  const city = m[1]!.trim().toLowerCase();
  if (city === 'central' && !/canada/i.test(name)) return undefined;
  return awsRegionByCity[city];
}

/** `USE1` → `us-east-1`. */
export function awsRegionFromPrefix(prefix: string): string | undefined {
  return awsRegionByPrefix[prefix.toUpperCase()];
}

/** Azure locations appear as `West Europe`, `westeurope` or `WestEurope`: all become `westeurope`. */
export function normalizeAzureRegion(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}
