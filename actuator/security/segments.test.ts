import { describe, expect, it } from 'vitest';
import { resolveSegments, segmentsSchema, suggestSegmentation } from './segments.ts';

const file = segmentsSchema.parse({
  Segments: [
    { Name: 'a', Prefixes: ['10.1.0.0/16'] },
    { Name: 'b', Sites: ['site-b'] },
  ],
});
const sites = (s: string) => (s === 'site-b' ? ['10.2.0.0/16'] : undefined);

describe('micro-segmentation', () => {
  it('resolves sites to prefixes and refuses an unknown site or a prefix in two segments', () => {
    expect(resolveSegments(file, sites)).toEqual([
      { name: 'a', prefixes: ['10.1.0.0/16'] },
      { name: 'b', prefixes: ['10.2.0.0/16'] },
    ]);
    expect(() => resolveSegments(file, () => undefined)).toThrow('segment b: "site-b" is not a site of the configuration');
    expect(() => resolveSegments(file, () => ['10.1.0.0/16'])).toThrow('prefix 10.1.0.0/16 is in segments a and b');
  });

  it('allows what was seen per protocol (ICMP without ports), denies the rest between segments, reports what the deny cuts', () => {
    const f = (src: string, dst: string, protocol: number, port: number, bytes: number) => ({
      src_addr: src, dst_addr: dst, protocol, dst_port: port, class: '', dst_site: '', bytes, flows: 1, last_seen: 0,
    }); // prettier-ignore
    const s = suggestSegmentation(
      resolveSegments(file, sites),
      [
        f('10.1.0.1', '10.2.0.1', 6, 443, 1000),
        f('10.1.0.1', '10.2.0.1', 1, 0, 50),
        f('10.2.0.1', '10.1.0.1', 17, 53, 10),
        f('192.0.2.1', '10.1.0.1', 6, 443, 10_000),
      ],
      40,
    );
    expect(s.allows.map((a) => [a.from, a.to, a.protocol, a.ports])).toEqual([
      ['a', 'b', 'tcp', [443]],
      ['a', 'b', 'icmp', []],
    ]);
    expect(s.wouldBlock).toEqual([{ from: 'b', to: 'a', flow: '10.2.0.1 → 10.1.0.1 udp/53', bytes: 10 }]);
    expect(s.file.SecurityGroups[1]!.Rules.map((r) => `${r.Action} ${r.Protocol} ${r.PortRange ?? ''}`)).toEqual([
      'Allow tcp 443',
      'Allow icmp ',
      'Deny all ',
    ]);
  });
});
