import { schemaConformance } from '../../conformance/analytics-schema.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { createStore } from '../../../core/store/index.ts';

const url = requireService('clickhouse');

schemaConformance('clickhouse server', () => createStore({ kind: 'server', url, path: '', database: uniqueName('schema') }));
