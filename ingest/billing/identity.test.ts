import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CostRecord } from '../../core/records/index.ts';
import { identityDigest, LineIdentities, occurrenceId } from './identity.ts';
import { importFile } from './importer.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'billing');
const tmp = mkdtempSync(join(tmpdir(), 'pp-billing-identity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function records(name: string, text: string, importedAt = 1): Promise<CostRecord[]> {
  const file = join(tmp, name);
  writeFileSync(file, text);
  const out: CostRecord[] = [];
  const summary = await importFile(file, { importedAt, onBatch: (b) => void out.push(...b) });
  expect(summary.bad, JSON.stringify(summary.badRows)).toBe(0);
  return out;
}

/** The fixture with one column of every data row rewritten. */
function rewrite(fixture: string, column: string, value: (old: string, row: number) => string): string {
  const [header, ...rows] = readFileSync(join(fixtures, fixture), 'utf8').trimEnd().split('\n');
  const i = header!.split(',').indexOf(column);
  expect(i).toBeGreaterThanOrEqual(0);
  // These fixtures quote only trailing JSON columns, after the columns rewritten here.
  return (
    [
      header,
      ...rows.map((r, n) =>
        r
          .split(',')
          .map((f, k) => (k === i ? value(f, n) : f))
          .join(','),
      ),
    ].join('\n') + '\n'
  );
}

describe('line identity', () => {
  it('numbers repeated identities within a file', () => {
    const ids = new LineIdentities();
    const a = [ids.next('x'), ids.next('y'), ids.next('x'), ids.next('x')];
    expect(a[0]).toBe(identityDigest('x'));
    expect(new Set(a).size).toBe(4);
    expect(a[2]).toBe(occurrenceId(identityDigest('x'), 1));
    expect(ids.countOf(identityDigest('x'))).toBe(3);
  });

  // Issue 12.4: the id was a hash of the raw row, so a corrected cost gave a new id and both counted.
  it.each([
    ['aws_cur_legacy_sample.csv', 'lineItem/UnblendedCost'],
    ['aws_cur2_sample.csv', 'line_item_unblended_cost'],
    ['azure_cost_export_sample.csv', 'CostInBillingCurrency'],
    ['focus_1.1_sample.csv', 'BilledCost'],
  ])('%s: a restated line (corrected cost, new LineItemId) keeps its id', async (fixture, costColumn) => {
    const original = await records(`orig-${fixture}`, readFileSync(join(fixtures, fixture), 'utf8'), 1000);
    const restatedText = rewrite(fixture, costColumn, (old) => String(Number(old) * 2 + 0.5));
    // AWS issues new identity/LineItemIds in every report: the re-export has other ones.
    const reexported = fixture.startsWith('aws_')
      ? restatedText.replace(/^[a-z0-9]{12},/gm, (id) => `z${id.slice(1)}`)
      : restatedText;
    const restated = await records(`restated-${fixture}`, reexported, 2000);
    expect(restated.map((r) => r.line_id)).toEqual(original.map((r) => r.line_id));
    expect(restated.map((r) => r.cost)).not.toEqual(original.map((r) => r.cost));
    expect(new Set(original.map((r) => r.line_id)).size).toBe(original.length);
    expect(restated.every((r) => r.line_version === 2000)).toBe(true);
  });

  it('gives identical rows of one file different ids, and the same ids on re-import', async () => {
    const text = readFileSync(join(fixtures, 'azure_cost_export_sample.csv'), 'utf8').trimEnd().split('\n');
    const doubled = [text[0], text[1], text[1], text[2], text[1]].join('\n') + '\n';
    const first = await records('dup1.csv', doubled);
    const again = await records('dup2.csv', doubled);
    expect(first).toHaveLength(4);
    expect(new Set(first.map((r) => r.line_id)).size).toBe(4);
    expect(again.map((r) => r.line_id)).toEqual(first.map((r) => r.line_id));
  });

  it('GCP: a row appended with a later export_time adds, and carries that time as its version', async () => {
    const lines = readFileSync(join(fixtures, 'gcp_billing_export_sample.jsonl'), 'utf8').trimEnd().split('\n');
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    const late = { ...first, cost: 0.5, export_time: '2024-09-03 06:00:00 UTC' };
    const out = await records('gcp.jsonl', [lines[0], JSON.stringify(late)].join('\n') + '\n');
    expect(out[0]!.line_id).not.toBe(out[1]!.line_id);
    expect(out.map((r) => r.line_version)).toEqual([Date.UTC(2024, 8, 2, 6, 12, 44, 123), Date.UTC(2024, 8, 3, 6)]);
    const reexported = await records('gcp-again.jsonl', lines[0] + '\n');
    expect(reexported[0]!.line_id).toBe(out[0]!.line_id);
  });

  it('a line that differs in what it charges for (another usage type) gets another id', async () => {
    const original = await records('a.csv', readFileSync(join(fixtures, 'aws_cur2_sample.csv'), 'utf8'));
    const changed = await records(
      'b.csv',
      rewrite('aws_cur2_sample.csv', 'line_item_operation', (old, row) => (row === 0 ? `${old}:0002` : old)),
    );
    expect(changed[0]!.line_id).not.toBe(original[0]!.line_id);
    expect(changed.slice(1).map((r) => r.line_id)).toEqual(original.slice(1).map((r) => r.line_id));
  });
});
