import { describe, expect, it } from 'vitest';
import { parseFeed, planThreatGroup } from './threat-feed.ts';

describe('threat feeds', () => {
  it('reads Spamhaus DROP (text and JSON lines), FireHOL netsets and plain lists', () => {
    const drop =
      '; Spamhaus DROP List 2026/01/05\n; Last-Modified: Mon, 05 Jan 2026\n1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n';
    expect(parseFeed('drop.txt', drop)).toEqual({ networks: ['1.10.16.0/20', '2.56.192.0/22'], problems: [] });
    const json =
      '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}\n{"type":"metadata","timestamp":1767571200,"size":2}\n';
    expect(parseFeed('drop_v4.json', json).networks).toEqual(['1.10.16.0/20']);
    const netset = '#\n# firehol_level1\n#\n0.0.0.0/8\n5.188.11.0/24\n198.51.100.66\n';
    expect(parseFeed('level1.netset', netset).networks).toEqual(['0.0.0.0/8', '5.188.11.0/24', '198.51.100.66/32']);
  });

  it('names the line of every bad entry', () => {
    const r = parseFeed('feed.txt', '10.0.0.0/8\n10.0.0.1/8\nnot-an-ip\n{"cidr":\n2001:db8::/32\n');
    expect(r.networks).toEqual(['10.0.0.0/8']);
    expect(r.problems).toEqual([
      'feed.txt:2: "10.0.0.1/8" is not an IPv4 address or network (host bits zero)',
      'feed.txt:3: "not-an-ip" is not an IPv4 address or network (host bits zero)',
      'feed.txt:4: not a JSON object',
      'feed.txt:5: "2001:db8::/32" is not an IPv4 address or network (host bits zero)',
    ]);
  });

  it('never blocks the allow-list (either side of an overlap), deduplicates and bounds the group', () => {
    const plan = planThreatGroup(
      ['10.0.0.0/8', '10.51.4.0/24', '203.0.113.66/32', '203.0.113.66/32', '198.51.100.0/24', '192.0.2.0/24'],
      ['10.51.0.0/16', '127.0.0.1'],
      2,
    );
    expect(plan.networks).toEqual(['203.0.113.66/32', '198.51.100.0/24']);
    expect(plan.allowed).toEqual([
      { network: '10.0.0.0/8', allow: '10.51.0.0/16' },
      { network: '10.51.4.0/24', allow: '10.51.0.0/16' },
    ]);
    expect(plan.truncated).toBe(1);
  });
});
