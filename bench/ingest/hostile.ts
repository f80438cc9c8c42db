/**
 * bench:hostile — the collector's decoder under hostile NetFlow v9 / IPFIX exports (issue 12,
 * defects 1 and 2). Prints, per kind of hostile datagram, the CPU it costs per 64 KB on one thread
 * (target ≤ 5 ms), and the memory a flood of 10,000 maximal template datagrams with churning ids and
 * domains leaves behind (target: RSS growth ≤ 150 MB; before the bounds it grew ~944 KB per datagram).
 *
 * BENCH_FLOOD (datagrams in the flood, default 10,000) and BENCH_REPEAT (timed repetitions per
 * datagram kind, default 40) adjust it.
 */
import { FlowDecoder } from '../../ingest/flow/decode.ts';
import {
  datagram,
  fullDataSet,
  templateFlood,
  templateSet,
  zeroLengthTemplate,
  type FieldSpec,
  type TemplatedFormat,
} from '../../ingest/flow/hostile-exports.ts';

const CPU_TARGET_MS = 5;
const RSS_TARGET_MB = 150;
const FLOOD = Number(process.env.BENCH_FLOOD ?? 10_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 40);
const FORMAT: TemplatedFormat = 'ipfix';
const at = 1_700_000_000_000;

function cpuMs<T>(fn: () => T): { ms: number; value: T } {
  const c = process.cpuUsage();
  const value = fn();
  const u = process.cpuUsage(c);
  return { ms: (u.user + u.system) / 1000, value };
}

interface Case {
  name: string;
  /** Decoder state before the timed datagram (templates, held data). */
  setup: (dec: FlowDecoder) => void;
  /** The timed datagram. */
  datagram: Buffer;
  /** Bytes of hostile input the timed datagram stands for (released data sets count too). */
  bytes: number;
}

const meta = { exporter: '203.0.113.66', receivedAt: at };
const alternating = (n: number): FieldSpec[] => Array.from({ length: n }, (_, i) => ({ id: i % 2 ? 5 : 4, length: 1 }));
const define = (id: number, fields: FieldSpec[]) => datagram(FORMAT, [templateSet(FORMAT, [{ id, fields }])]);

const worst = define(500, alternating(512));
const variable = define(
  501,
  Array.from({ length: 512 }, () => ({ id: 96, length: 65535 })),
);
const zeroTemplate = define(300, zeroLengthTemplate(300, 16_376));
const zeroData = datagram(FORMAT, [fullDataSet(FORMAT, 300, 1)]);
const flood = datagram(FORMAT, [templateFlood(FORMAT, 256, 512)]);
const worstData = datagram(FORMAT, [fullDataSet(FORMAT, 500, 512)]);
// 512 variable-length fields of length 0: every record byte is a length prefix to read.
const variableData = datagram(FORMAT, [fullDataSet(FORMAT, 501, 512)]);
variableData.fill(0, 20);
const tinyFlows = define(502, [{ id: 1, length: 1 }]);
const tinyData = datagram(FORMAT, [fullDataSet(FORMAT, 502, 1)]);
const tinyRecords = define(503, [{ id: 4, length: 1 }]);
const tinyRecordData = datagram(FORMAT, [fullDataSet(FORMAT, 503, 1)]);

const cases: Case[] = [
  {
    name: 'template of 16,376 zero-length fields (refused)',
    setup: () => {},
    datagram: zeroTemplate,
    bytes: zeroTemplate.length,
  },
  {
    name: 'data for that template (held, then dropped by the byte budget)',
    setup: (d) => void d.decode(zeroTemplate, meta),
    datagram: zeroData,
    bytes: zeroData.length,
  },
  { name: '31 templates × 512 fields (flood datagram)', setup: () => {}, datagram: flood, bytes: flood.length },
  {
    name: 'data, 512 one-byte read fields per record',
    setup: (d) => void d.decode(worst, meta),
    datagram: worstData,
    bytes: worstData.length,
  },
  {
    name: 'data, 512 empty variable-length fields per record',
    setup: (d) => void d.decode(variable, meta),
    datagram: variableData,
    bytes: variableData.length,
  },
  {
    name: 'template releasing 16 held 64 KB data sets (per 64 KB released)',
    setup: (d) => {
      for (let i = 0; i < 16; i++) d.decode(worstData, meta);
    },
    datagram: worst,
    bytes: 16 * worstData.length,
  },
  {
    name: 'data, 65k one-byte records of octetDeltaCount (flows capped at 8,192)',
    setup: (d) => void d.decode(tinyFlows, meta),
    datagram: tinyData,
    bytes: tinyData.length,
  },
  {
    name: 'data, 65k one-byte records that are not flows',
    setup: (d) => void d.decode(tinyRecords, meta),
    datagram: tinyRecordData,
    bytes: tinyRecordData.length,
  },
];

/** Memory under a flood: maximal templates, ids and observation domains churning. Runs first, on a fresh heap. */
function floodGrowthMb(): number {
  const dec = new FlowDecoder();
  const pool = Array.from({ length: 16 }, () => datagram(FORMAT, [templateFlood(FORMAT, 256, 512)]));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  let evicted = 0;
  for (let i = 0; i < FLOOD; i++) {
    const d = pool[i % pool.length]!;
    let off = 20;
    for (let k = 0; off + 4 <= d.length; k++) {
      d.writeUInt16BE(256 + ((i * 97 + k) % 65_000), off);
      off += 4 + d.readUInt16BE(off + 2) * 4;
    }
    d.writeUInt32BE(i % 1024, 12);
    const r = dec.decode(d, { exporter: '203.0.113.67', receivedAt: at + i });
    evicted += (r.limits.templates_per_domain ?? 0) + (r.limits.template_fields_total ?? 0);
    if (i % 250 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const cpu = process.cpuUsage(cpu0);
  const growthMb = (peak - rss0) / 2 ** 20;
  console.log(
    `template flood: ${FLOOD.toLocaleString('en-US')} datagrams of 31 × 512-field templates in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(${((cpu.user + cpu.system) / 1000 / FLOOD).toFixed(2)} ms CPU each): ${dec.templates.templateCount()} templates / ` +
      `${dec.templates.fieldCount().toLocaleString('en-US')} fields held, ${evicted.toLocaleString('en-US')} evicted; ` +
      `RSS ${Math.round(rss0 / 2 ** 20)} → peak ${Math.round(peak / 2 ** 20)} MB, growth ${growthMb.toFixed(1)} MB ` +
      `(target ≤ ${RSS_TARGET_MB} MB, ratio ${(RSS_TARGET_MB / Math.max(growthMb, 1)).toFixed(2)})`,
  );
  return growthMb;
}

const growthMb = floodGrowthMb();

let worstMs = 0;
for (const c of cases) {
  let total = 0;
  let flows = 0;
  let errors: string[] = [];
  for (let r = 0; r < REPEAT + 3; r++) {
    const dec = new FlowDecoder({ pendingDomainBytes: 16 * 65_536 + 1 });
    c.setup(dec);
    const { ms, value } = cpuMs(() => dec.decode(c.datagram, meta));
    if (r >= 3) total += ms; // the first runs warm the JIT up
    flows = value.flows.length;
    errors = value.errors;
  }
  const per64k = (total / REPEAT) * (65_536 / c.bytes);
  worstMs = Math.max(worstMs, per64k);
  const note = flows > 0 ? ` (${flows.toLocaleString('en-US')} flows)` : '';
  console.log(
    `  ${c.name}: ${per64k.toFixed(2)} ms CPU per 64 KB${note}${errors.length ? ` [${[...new Set(errors)].join(', ')}]` : ''}`,
  );
}
console.log(
  `hostile worst-case datagram: ${worstMs.toFixed(2)} ms CPU per 64 KB on one thread ` +
    `(target ≤ ${CPU_TARGET_MS} ms, ratio ${(CPU_TARGET_MS / worstMs).toFixed(2)})`,
);

process.exitCode = worstMs <= CPU_TARGET_MS && growthMb <= RSS_TARGET_MB ? 0 : 1;
