import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One trained model version and how it scored. */
export interface ModelVersion {
  /** `traffic` (quantile forecasts) or `risk` (failure-risk classifier). */
  kind: 'traffic' | 'risk';
  model: string;
  version: string;
  trained_at: number;
  /** Backtest scores (per horizon for traffic, AUC/Brier/precision@k for risk). */
  metrics: Record<string, unknown>;
  /** Best model per series key by backtest (traffic only). */
  selection?: Record<string, string>;
  train_ms: number;
}

interface Index {
  versions: ModelVersion[];
}

/**
 * Versions, metrics and saved models. With a directory, everything is written as JSON (index.json plus one
 * artifact file per version, written to a temporary name and renamed) so a restart reloads the last models.
 */
export class ModelRegistry {
  private index: Index = { versions: [] };
  private readonly artifacts = new Map<string, unknown>();

  constructor(private readonly dir = '') {}

  async load(): Promise<void> {
    if (!this.dir) return;
    await mkdir(this.dir, { recursive: true });
    try {
      this.index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as Index;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`model registry ${this.dir}: cannot read index.json`, { cause: err });
    }
  }

  list(kind?: ModelVersion['kind']): ModelVersion[] {
    return this.index.versions.filter((v) => !kind || v.kind === kind);
  }

  latest(kind: ModelVersion['kind']): ModelVersion | undefined {
    const list = this.list(kind);
    return list[list.length - 1];
  }

  async register(entry: Omit<ModelVersion, 'version'>, artifact: unknown): Promise<ModelVersion> {
    const n = this.list(entry.kind).length + 1;
    const version: ModelVersion = { ...entry, version: `${entry.kind}-v${n}` };
    this.artifacts.set(version.version, artifact);
    this.index.versions.push(version);
    if (this.dir) {
      await mkdir(this.dir, { recursive: true });
      await atomicWrite(join(this.dir, `${version.version}.json`), JSON.stringify(artifact));
      await atomicWrite(join(this.dir, 'index.json'), JSON.stringify(this.index, null, 1));
    }
    return version;
  }

  async artifact<T>(version: string): Promise<T | undefined> {
    if (this.artifacts.has(version)) return this.artifacts.get(version) as T;
    if (!this.dir) return undefined;
    try {
      const value = JSON.parse(await readFile(join(this.dir, `${version}.json`), 'utf8')) as T;
      this.artifacts.set(version, value);
      return value;
    } catch {
      return undefined;
    }
  }
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
