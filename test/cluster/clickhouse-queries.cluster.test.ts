import { queriesConformance } from '../conformance/analytics-queries.ts';
import { uniqueName } from '../support/services.ts';
import { ServerStore } from '../../core/store/index.ts';
import { clusterStoreSettings } from '../../analytics/schema/cluster.ts';
import { requireClickhouseCluster } from './clickhouse-cluster.ts';

/**
 * The query library on the 2×2 ClickHouse cluster: the schema converged ON CLUSTER, the queries
 * reading the Distributed tables through one node, the same data and expected answers as on chDB
 * and the single server (test/conformance/analytics-queries.ts).
 */
const cluster = requireClickhouseCluster();

queriesConformance(
  'clickhouse cluster (2 shards × 2 replicas)',
  () => new ServerStore({ url: cluster.urls[0]!, database: uniqueName('queries'), settings: clusterStoreSettings }),
  { cluster: cluster.name },
);
