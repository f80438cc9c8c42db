import { decodeNetflow5 } from './netflow5.ts';
import { decodeIpfix, decodeNetflow9 } from './netflow9.ts';
import { renormalize } from './renormalize.ts';
import { decodeSflow } from './sflow.ts';
import { TemplateCache, type TemplateCacheOptions } from './templates.ts';
import { DecodeFault, emptyResult, type DatagramMeta, type DecodeResult } from './types.ts';

export interface FlowDecoderOptions extends TemplateCacheOptions {
  /** Sampling rate for an exporter when the datagram and option data give none (default 1). */
  defaultSamplingRate?: (exporter: string) => number;
}

/**
 * Decodes any supported datagram (NetFlow v5, v9, IPFIX, sFlow v5). Stateless formats are pure
 * functions; v9/IPFIX use the template cache held here. `decode()` never throws on input: faults
 * become reasons in `result.errors` (counted by the caller), and records read before the fault are kept.
 * Flow volumes come out renormalized: bytes and packets are estimates (× `sampling_rate`).
 */
export class FlowDecoder {
  readonly templates: TemplateCache;
  private readonly defaultRate: (exporter: string) => number;

  constructor(options: FlowDecoderOptions = {}) {
    this.templates = new TemplateCache(options);
    this.defaultRate = options.defaultSamplingRate ?? (() => 1);
  }

  decode(buf: Buffer, meta: DatagramMeta): DecodeResult {
    const out = emptyResult();
    try {
      if (buf.length < 4) throw new DecodeFault('truncated', `datagram of ${buf.length} bytes`);
      const v16 = buf.readUInt16BE(0);
      if (v16 === 5) decodeNetflow5(buf, meta, out, this.defaultRate(meta.exporter));
      else if (v16 === 9) decodeNetflow9(buf, meta, out, { cache: this.templates, defaultRate: this.defaultRate(meta.exporter) });
      else if (v16 === 10) decodeIpfix(buf, meta, out, { cache: this.templates, defaultRate: this.defaultRate(meta.exporter) });
      else if (v16 === 0 && buf.readUInt32BE(0) === 5) decodeSflow(buf, meta, out);
      else throw new DecodeFault('unknown_version', `unknown datagram version ${v16}`);
    } catch (err) {
      if (err instanceof DecodeFault) out.errors.push(err.reason);
      // Anything else (a RangeError from a Buffer read the checks missed) is still bad input.
      else out.errors.push('bad_record');
    }
    renormalize(out.flows);
    return out;
  }
}
