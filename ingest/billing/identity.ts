import * as crypto from 'node:crypto';

/**
 * Billing line identity. A line's id is a hash of the columns that say *which* charge it is
 * (format, accounts, billing period, charge period, product/SKU, usage type, resource, charge
 * category…; see each format's `identity` columns and docs/notes/billing.md), never of the amounts:
 * a line restated on re-export (same usage, corrected cost) keeps its id, and the costs table
 * (a ReplacingMergeTree on line_id, versioned by line_version) keeps only its newest version.
 *
 * Lines of one file with the same identity are genuinely different charges (the export has no
 * column telling them apart); they are numbered in file order, and the number is part of the id.
 * Re-exports keep the providers' row order for such lines, so the n-th one replaces the n-th one.
 */

// One-shot hashing (Node >= 20.12) avoids a Hash object per row; older runtimes use createHash.
const sha1Hex: (data: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: string, enc: 'hex'): string }).hash('sha1', data, 'hex')
    : (data) => crypto.createHash('sha1').update(data).digest('hex');

/** Separator between identity fields (a control character no export uses inside a value). */
export const identitySeparator = '\x1f';

/** 128 bits of sha1 over the identity text, in hex: the id of the first line with this identity. */
export function identityDigest(identity: string): string {
  return sha1Hex(identity).slice(0, 32);
}

/**
 * The id of the `occurrence`-th (0-based) line of a file with this digest: the digest itself, then
 * its first 96 bits with the occurrence in the last 32 (no second hash per repeated line; ids stay
 * 32 hex digits, and a collision with another digest needs 96 equal bits).
 */
export function occurrenceId(digest: string, occurrence: number): string {
  return occurrence === 0 ? digest : digest.slice(0, 24) + occurrence.toString(16).padStart(8, '0');
}

/**
 * Numbers the lines of one file by identity and gives each its id. Holds one entry per distinct
 * identity of the file (about 100 bytes each): 10 million distinct lines take about 1 GB, which is
 * why the importer makes one per file and drops it at the end.
 */
export class LineIdentities {
  private readonly seen = new Map<string, number>();

  /** The id of the next line with this identity. */
  next(identity: string): string {
    return this.nextOf(identityDigest(identity));
  }

  /** Like next(), from a digest (the reader thread renumbering workers' segments). */
  nextOf(digest: string): string {
    const count = this.seen.get(digest) ?? 0;
    this.seen.set(digest, count + 1);
    return occurrenceId(digest, count);
  }

  /** Lines with this digest numbered so far. */
  countOf(digest: string): number {
    return this.seen.get(digest) ?? 0;
  }
}
