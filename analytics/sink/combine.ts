import { rawBodyPieces, type RawBody, type RawFormat } from '../../core/store/common.ts';

/**
 * Group commit of the INSERTs of batches handled side by side (several partitions of one fetch,
 * several consumers of one table): their rows become one INSERT. ClickHouse's cost is mostly per
 * INSERT (a part per table and view, their files, their merges), and a sink that keeps up with a
 * steady stream gets small batches, one per partition and fetch: with four partitions, four
 * INSERTs where one would do. ClickHouse's Kafka engine, too, writes one block for all partitions.
 *
 * Exactly-once holds as for one batch: the combined rows are one block (stored entirely or not at
 * all), and each partition's high-water mark is written by that same block (the offsets view takes
 * the maximum per partition). A partition's INSERTs stay in order: its batches are handled one at a
 * time, and each hands over its pieces in order; pieces go out in the order they came.
 */

/** A batch's rows for one INSERT: a piece of a combined one. */
export interface Piece {
  format: RawFormat;
  body: RawBody;
  rows: number;
  /** The Kafka partition and first stored offset of its rows: the mark that says it is stored. */
  partition: number;
  first: bigint;
}

export interface CombinerOptions<R> {
  /** Most rows in one INSERT (pieces are never split; a piece alone may hold more). */
  maxRows: number;
  /** Longest a piece waits for a batch still being read to add its rows. */
  windowMs: number;
  /** Stores pieces as one INSERT; one result per piece, in order. */
  write(pieces: readonly Piece[]): Promise<R[]>;
}

interface Waiting<R> {
  piece: Piece;
  at: number;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class InsertCombiner<R> {
  private readonly queue: Waiting<R>[] = [];
  private writing = false;
  /** Batches being read into pieces now: each may yet add a piece, worth waiting for. */
  private reading = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CombinerOptions<R>) {}

  /** A batch starts (or goes back to) reading rows. */
  enter(): void {
    this.reading++;
  }

  /** A batch stops reading rows (it waits for its INSERTs, or it is done). */
  leave(): void {
    this.reading--;
    this.consider();
  }

  /** Stores a piece, alone or with others; resolves once its INSERT is stored. */
  submit(piece: Piece): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ piece, at: performance.now(), resolve, reject });
      this.consider();
    });
  }

  /** Writes the queue's head now if nothing else is worth waiting for. */
  private consider(): void {
    if (this.writing || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.at;
    const rows = this.queue.reduce((sum, w) => sum + w.piece.rows, 0);
    if (this.reading > 0 && rows < this.options.maxRows && waited < this.options.windowMs) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.consider();
      }, this.options.windowMs - waited);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.writeHead();
  }

  private async writeHead(): Promise<void> {
    this.writing = true;
    // The head and what follows it in the same format, up to maxRows.
    const format = this.queue[0]!.piece.format;
    let rows = 0;
    let n = 0;
    while (n < this.queue.length) {
      const piece = this.queue[n]!.piece;
      if (piece.format !== format || (n > 0 && rows + piece.rows > this.options.maxRows)) break;
      rows += piece.rows;
      n++;
    }
    const taken = this.queue.splice(0, n);
    try {
      const results = await this.options.write(taken.map((w) => w.piece));
      taken.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      for (const w of taken) w.reject(err);
    } finally {
      this.writing = false;
      this.consider();
    }
  }
}

/** The pieces' bodies as one: row formats concatenate, and a Native body may hold several blocks. */
export function joinBodies(pieces: readonly Piece[]): RawBody {
  return pieces.length === 1 ? pieces[0]!.body : pieces.flatMap((p) => rawBodyPieces(p.body));
}
