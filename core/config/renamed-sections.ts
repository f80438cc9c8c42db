/**
 * Sections that were renamed. The old key is still read (its keys move into the new section)
 * with a deprecation warning, so existing files keep working while they are updated.
 */

export interface RenamedSection {
  from: string;
  to: string;
  why: string;
}

export const renamedSections: readonly RenamedSection[] = [
  {
    from: 'actuation',
    to: 'actuator',
    why: '"actuation" and "actuator" configured one component: both now live in "actuator"',
  },
];

/** A plain object (a YAML mapping), not an array or null. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface RenameResult {
  /** Old sections found, to warn about. */
  renamed: RenamedSection[];
  /** Keys set under both the old and the new name: ambiguous, reported as errors. */
  conflicts: { rename: RenamedSection; key: string }[];
}

/** Moves each old section's keys into its new section, in place. */
export function applyRenames(data: Record<string, unknown>): RenameResult {
  const result: RenameResult = { renamed: [], conflicts: [] };
  for (const rename of renamedSections) {
    if (!(rename.from in data)) continue;
    const old = data[rename.from];
    result.renamed.push(rename);
    // A non-mapping old section is left in place, so validation reports it as the wrong type.
    if (!isRecord(old)) continue;
    const target = data[rename.to] ?? {};
    if (!isRecord(target)) continue;
    for (const [key, value] of Object.entries(old)) {
      if (key in target) result.conflicts.push({ rename, key });
      else target[key] = value;
    }
    data[rename.to] = target;
    delete data[rename.from];
  }
  return result;
}
