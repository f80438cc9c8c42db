import { queriesConformance } from '../../conformance/analytics-queries.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { createStore } from '../../../core/store/index.ts';

const url = requireService('clickhouse');

queriesConformance('clickhouse server', () => createStore({ kind: 'server', url, path: '', database: uniqueName('queries') }));
