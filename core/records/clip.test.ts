import { describe, expect, it } from 'vitest';
import { changeRecord } from './index.ts';
import { MAX_TEXT_CHARS, clipJson } from './define.ts';

describe('clipJson', () => {
  it('keeps a document that fits as it is', () => {
    expect(clipJson({ ops: [['set', 'a']] })).toBe('{"ops":[["set","a"]]}');
  });

  it('drops the largest fields of an object first, keeping the rest', () => {
    const detail = { fraction: 0.5, ops: [['set', 'load-balancing', 'wan', 'rule', '10']], before: 'x'.repeat(MAX_TEXT_CHARS) };
    const clipped = JSON.parse(clipJson(detail)) as typeof detail;
    expect(clipped.fraction).toBe(0.5);
    expect(clipped.ops).toEqual(detail.ops);
    expect(clipped.before).toBe(`[omitted: ${MAX_TEXT_CHARS + 2} characters]`);
  });

  it('summarises a document too long for a json field, within the limit, and the record then validates', () => {
    // Quotes and backslashes grow when the head is encoded again: the worst case for fitting.
    const big = Array.from({ length: 5_000 }, (_, i) => `rule "${i}" \\ ${'x'.repeat(20)}`);
    const text = clipJson(big);
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_TEXT_CHARS);
    expect(text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    const note = JSON.parse(text) as { truncated: boolean; chars: number; head: string };
    expect(note.truncated).toBe(true);
    expect(note.chars).toBe(JSON.stringify(big).length);
    expect(JSON.stringify(big).startsWith(note.head)).toBe(true);
    expect(note.head.length).toBeGreaterThan(MAX_TEXT_CHARS / 2);
    const rec = changeRecord.parse({ event_id: 'e', time: 0, proposal_id: 'p', event: 'step-applied', detail: text });
    expect(rec.detail).toBe(text);
  });
});
