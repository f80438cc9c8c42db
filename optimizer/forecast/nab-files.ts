/**
 * Reads NAB-style data: `timestamp,value` CSV files and a windows JSON keyed by `<dir>/<file>.csv`
 * (`combined_windows.json`), with the anomaly instants from a labels JSON of the same shape when given.
 * Times without a zone are UTC, as NAB writes them.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ValidationError } from '../../core/errors.ts';
import type { NabFile } from './nab.ts';

const utc = (s: string) => Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.trim().replace(' ', 'T')}Z`);

/** The windows and labels of `file` in NAB's JSON: keys end with `/<file name>`. */
function entry<T>(json: Record<string, T>, file: string): T | undefined {
  const name = basename(file);
  const key = Object.keys(json).find((k) => k === name || k.endsWith(`/${name}`));
  return key === undefined ? undefined : json[key];
}

export async function readNabFile(
  file: string,
  windows: Record<string, [string, string][]>,
  labels: Record<string, string[]> = {},
): Promise<NabFile> {
  const text = await readFile(file, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]
    ?.toLowerCase()
    .split(',')
    .map((c) => c.trim());
  if (!header || header[0] !== 'timestamp' || header[1] !== 'value')
    throw new ValidationError(`${file}:1: expected the header timestamp,value`);
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const [ts, v] = lines[i]!.split(',');
    const t = utc(ts ?? '');
    const x = Number(v);
    if (!Number.isFinite(t)) throw new ValidationError(`${file}:${i + 1}: timestamp "${ts}" is not a time`);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x))
      throw new ValidationError(`${file}:${i + 1}: value "${v}" is not a number`);
    times.push(t);
    values.push(x);
  }
  const w = entry(windows, file);
  if (!w) throw new ValidationError(`${file}: no entry in the windows file`);
  return {
    name: basename(file),
    times,
    values,
    windows: w.map(([a, b]) => [utc(a), utc(b)] as const),
    labels: (entry(labels, file) ?? []).map(utc),
  };
}

/** Every `.csv` of a directory that the windows file names (the others are listed as skipped). */
export async function readNabDir(
  dir: string,
  windows: Record<string, [string, string][]>,
  labels: Record<string, string[]> = {},
): Promise<{ files: NabFile[]; skipped: string[] }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.csv')).sort();
  const files: NabFile[] = [];
  const skipped: string[] = [];
  for (const n of names) {
    if (!entry(windows, n)) skipped.push(n);
    else files.push(await readNabFile(join(dir, n), windows, labels));
  }
  return { files, skipped };
}
