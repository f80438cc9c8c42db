import { readFileSync } from 'node:fs';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { FlowDecoder } from '../../ingest/flow/decode.ts';
import { isPcap, parsePcap } from '../../ingest/pcap/read.ts';

export const summary = 'decode flow exports: `flows decode <files…>` prints records as JSON lines (pcap or raw datagrams)';

const usage = `usage: pathpilot flows decode [--exporter ADDR] [--port N] [--quiet] <files…>

Decodes NetFlow v5/v9, IPFIX and sFlow v5. Each file is a libpcap capture (UDP datagrams, the
exporter is the packet's source address) or one raw datagram (the exporter is --exporter).
Templates learned from earlier files apply to later ones, so pass template files first.
Records go to stdout as JSON lines; problems and a summary go to stderr.

  --exporter ADDR  exporter address for raw datagram files (default 127.0.0.1)
  --port N         only decode pcap datagrams sent to this UDP port
  --quiet          no summary line
`;

export const subcommands = ['decode'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, { name: 'pathpilot flows', usage, subcommands: { decode } });
}

async function decode(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot flows decode',
    usage,
    allowPositionals: true,
    options: {
      exporter: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('pathpilot flows decode', 'no files given').exit;
  const port = values.port !== undefined ? Number(values.port) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    process.stderr.write(`pathpilot flows: --port must be a UDP port, got "${values.port}"\n`);
    return 2;
  }
  const decoder = new FlowDecoder();
  let datagrams = 0;
  let flows = 0;
  let ifaces = 0;
  const errors = new Map<string, number>();
  const lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
    lines.length = 0;
  };
  for (const file of positionals) {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      process.stderr.write(`pathpilot flows: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    const items = isPcap(buf)
      ? parsePcap(buf)
          .filter((d) => port === undefined || d.dstPort === port)
          .map((d) => ({ payload: d.payload, exporter: d.src, time: d.time }))
      : [{ payload: buf, exporter: values.exporter, time: Date.now() }];
    items.forEach((item, i) => {
      datagrams++;
      const result = decoder.decode(item.payload, { exporter: item.exporter, receivedAt: item.time });
      for (const r of result.flows) lines.push(JSON.stringify(r));
      for (const r of result.ifaces) lines.push(JSON.stringify(r));
      flows += result.flows.length;
      ifaces += result.ifaces.length;
      for (const e of result.errors) {
        errors.set(e, (errors.get(e) ?? 0) + 1);
        process.stderr.write(`${file}${items.length > 1 ? ` datagram ${i + 1}` : ''}: ${e}\n`);
      }
      if (lines.length > 1000) flush();
    });
  }
  flush();
  const pending = decoder.templates.pendingCount();
  if (pending > 0) errors.set('template_missing', (errors.get('template_missing') ?? 0) + pending);
  if (!values.quiet) {
    const errText = [...errors].map(([k, v]) => `${k}=${v}`).join(' ');
    process.stderr.write(
      `decoded ${datagrams} datagrams: ${flows} flows, ${ifaces} iface records, ${decoder.templates.templateCount()} templates` +
        (pending > 0 ? `, ${pending} data sets never saw their template` : '') +
        (errText ? `; errors: ${errText}` : '') +
        '\n',
    );
  }
  return 0;
}
