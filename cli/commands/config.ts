import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadConfig, Topology } from '../../core/config/index.ts';

export const summary = 'check or print the effective configuration (--check, --dump, -c FILE)';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, dump: { type: 'boolean' }, check: { type: 'boolean' } },
  });
  const { root, source } = loadConfig(values.config);
  const topo = new Topology(root);
  if (values.dump) process.stdout.write(stringify(root));
  else
    process.stdout.write(
      `${source.file}: ok — ${root.sites.length} sites, ${root.links.length} links, ${root.paths.length} paths over ${topo.pairs().length} pairs, ${root.classes.length} classes\n`,
    );
  return 0;
}
