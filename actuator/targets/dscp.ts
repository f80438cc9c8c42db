/**
 * DSCP values as a QoS class match (`qos policy shaper … class N match M ip dscp VALUE`) must spell them.
 *
 * vyos-1x `python/vyos/qos/base.py` (`_dsfields`) turns a NAME into its TOS byte (EF → 0xb8) and compares
 * it with `match ip dsfield VALUE 0xff`. A NUMBER is passed through unchanged on 1.4 and on 1.5 images
 * before PR #4302 (2025-01-13), so `46` matches TOS 0x2e, not EF (vyos-facts §5.2); later images shift
 * it. Names mean the same on every image, so a value is rendered by name wherever VyOS has one: the RFC
 * names first, then the three legacy TOS names that land on a DSCP no RFC name covers (reliability 0x04
 * = DSCP 1, throughput 0x08 = 2, lowdelay 0x10 = 4). Only values without any name stay numbers — those
 * match the wrong packets on old images, which the target's effect check (the router's effective
 * dataplane) reports.
 *
 * `policy route … dscp` is nftables and compares the DSCP field itself: numbers are right there.
 */

/** DSCP value → the name VyOS's QoS `ip dscp` accepts for it (the constraint list in vyos-paths.json). */
const names: Readonly<Record<number, string>> = {
  0: 'default',
  1: 'reliability',
  2: 'throughput',
  4: 'lowdelay',
  8: 'CS1',
  10: 'AF11',
  12: 'AF12',
  14: 'AF13',
  16: 'CS2',
  18: 'AF21',
  20: 'AF22',
  22: 'AF23',
  24: 'CS3',
  26: 'AF31',
  28: 'AF32',
  30: 'AF33',
  32: 'CS4',
  34: 'AF41',
  36: 'AF42',
  38: 'AF43',
  40: 'CS5',
  46: 'EF',
  48: 'CS6',
  56: 'CS7',
};

/** How a QoS class match spells DSCP `d` (0–63): its name where VyOS has one, else the number. */
export function qosDscpValue(d: number): string {
  return names[d] ?? String(d);
}

/** True when DSCP `d` has a name (its QoS match is right on every image). */
export function hasQosDscpName(d: number): boolean {
  return names[d] !== undefined;
}
