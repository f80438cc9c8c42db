import { describe, expect, it } from 'vitest';
import { REDACTED, redactCommandLine, redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it('replaces PSKs and private keys at any depth, keeps everything else and the input intact', () => {
    const input = {
      intents: [{ kind: 'ipsec-peer', auth: { mode: 'pre-shared-secret', secret: 'psk-0123456789abcdef', local_id: 'a' } }],
      rollout: { snapshots: { r1: { wg0: { 'private-key': 'cHJpdmF0ZQ==', peer: { b: { 'public-key': 'pub' } } } } } },
      count: 3,
    };
    const out = redactSecrets(input);
    expect(out.intents[0]!.auth).toEqual({ mode: 'pre-shared-secret', secret: REDACTED, local_id: 'a' });
    expect(out.rollout.snapshots.r1.wg0['private-key']).toBe(REDACTED);
    expect(out.rollout.snapshots.r1.wg0.peer.b['public-key']).toBe('pub');
    expect(out.count).toBe(3);
    expect(input.intents[0]!.auth.secret).toBe('psk-0123456789abcdef');
    expect(JSON.stringify(out)).not.toMatch(/psk-0123|cHJpdmF0ZQ/);
  });

  it('redacts secrets in config ops: the value of an op on a secret leaf, and the word after it in a path', () => {
    const ops = [
      { op: 'set', path: ['vpn', 'ipsec', 'authentication', 'psk', 'pp-x', 'secret'], value: 'psk-one-0123456789' },
      { op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'private-key', 'cHJpdmF0ZQ=='] },
      { op: 'set', path: ['interfaces', 'wireguard', 'wg0', 'port'], value: '51820' },
    ];
    const out = redactSecrets(ops);
    expect(out[0]!.value).toBe(REDACTED);
    expect(out[1]!.path[4]).toBe(REDACTED);
    expect(out[2]!.value).toBe('51820');
  });

  it('redacts the value after a secret word in set lines, and nothing else', () => {
    expect(redactCommandLine("set vpn ipsec authentication psk pp-x secret 'psk-0123456789abcdef'")).toBe(
      "set vpn ipsec authentication psk pp-x secret '[redacted]'",
    );
    expect(redactCommandLine("set service https api keys id pathpilot key 'k3y'")).toBe(
      "set service https api keys id pathpilot key '[redacted]'",
    );
    expect(redactCommandLine("set interfaces wireguard wg0 private-key 'cHJpdmF0ZQ=='")).toContain("private-key '[redacted]'");
    const plain = "set interfaces wireguard wg0 peer b public-key 'pub='";
    expect(redactCommandLine(plain)).toBe(plain);
    expect(redactCommandLine('set service https api keys id pathpilot')).toBe('set service https api keys id pathpilot');
  });
});
