/**
 * Writes rows in ClickHouse's RowBinary format: each column in order, integers little-endian,
 * DateTime as UInt32 seconds, Float64 as IEEE 754, String (and LowCardinality(String)) as a LEB128
 * byte length then the UTF-8 bytes. The server parses it without any text conversion (a third less
 * time per INSERT than TabSeparated on 18.16), and the sink builds it without intermediate strings.
 *
 * Rows go into large blocks; `take()` hands over what was written since the last call as views of
 * those blocks (no copy), and the writer goes on in a new block, so a body owns its blocks. A row
 * may span two blocks: the body is their concatenation. With a `BlockPool`, a body's blocks can be
 * given back once its INSERT is done, and later writers fill them again.
 */
const BLOCK_BYTES = 1 << 20;
const EMPTY = Buffer.alloc(0);
const TWO_32 = 4_294_967_296;
/**
 * Room every string leaves behind it, and the most fixed-width bytes a row may have (checked where
 * encoders are built): a row reserves its fixed-width bytes once, then its fixed-width fields are
 * written unchecked whatever strings came between them.
 */
export const ROW_FIXED_MAX = 1024;

/**
 * Blocks whose body is no longer read (its INSERT is done), handed to writers again, at most
 * `capacity` of them. The sink's bodies were a third of the process's new Buffer bytes, and every
 * 64 MB or so of new Buffers makes V8 run a full mark-compact (external memory pressure): about
 * a dozen per million flow rows, a fifth of the sink's CPU with the page faults of fresh memory.
 */
export class BlockPool {
  private readonly free: Buffer[] = [];
  /** The blocks this pool handed out and has not had back: only those are taken back, once each. */
  private readonly issued = new WeakSet<ArrayBufferLike>();

  /** Blocks of `blockBytes` (larger ones for a larger claim, never kept), at most `capacity` kept. */
  constructor(
    readonly blockBytes = BLOCK_BYTES,
    private readonly capacity = 32,
  ) {}

  /** Blocks ready to be handed out again. */
  get size(): number {
    return this.free.length;
  }

  /** A block of at least `n` bytes: one given back if it is large enough, else a new one. */
  acquire(n: number): Buffer {
    const block = (n <= this.blockBytes ? this.free.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(this.blockBytes, n));
    this.issued.add(block.buffer);
    return block;
  }

  /**
   * Takes back the blocks of a body taken from this pool's writers. Only when nothing reads the body
   * any more: a writer fills them again at once.
   */
  release(body: readonly Buffer[]): void {
    for (const view of body) {
      const whole = view.buffer;
      if (!this.issued.has(whole)) continue;
      this.issued.delete(whole);
      if (whole.byteLength === this.blockBytes && this.free.length < this.capacity)
        this.free.push(Buffer.from(whole, 0, this.blockBytes));
    }
  }
}

export class RowBinaryWriter {
  /** The block being filled (none until the first row: a writer may have no row at all). */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Where the bytes not yet taken start in `buf`. */
  private mark = 0;
  private filled: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly pool?: BlockPool) {}

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.bytes + this.pos - this.mark;
  }

  /** Guarantees `n` bytes of room in the current block (a new block when it has less). */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > this.mark) this.filled.push(this.buf.subarray(this.mark, this.pos));
    this.bytes += this.pos - this.mark;
    this.buf = this.pool ? this.pool.acquire(n + ROW_FIXED_MAX) : Buffer.allocUnsafe(Math.max(BLOCK_BYTES, n + ROW_FIXED_MAX));
    this.pos = 0;
    this.mark = 0;
  }

  // Fixed-width writers do not check room: each row reserves its fixed-width bytes first (see
  // encode.ts), and every string leaves ROW_FIXED_MAX bytes of room behind it.
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.pos = this.buf.writeUInt16LE(v, this.pos);
  }

  u32(v: number): void {
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }

  /** A non-negative safe integer as UInt64. */
  u64(v: number): void {
    this.pos = this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos = this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.pos);
  }

  /** A UInt64 given as its low and high 32-bit halves (offsets, which may exceed 2^53). */
  u64Parts(low: number, high: number): void {
    this.pos = this.buf.writeUInt32LE(low, this.pos);
    this.pos = this.buf.writeUInt32LE(high, this.pos);
  }

  f64(v: number): void {
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  str(s: string): void {
    const n = s.length;
    if (n < 43) {
      // At most 3 UTF-8 bytes per UTF-16 unit: ≤ 126 bytes, so the length is one LEB128 byte.
      // ASCII (the usual case: names, addresses) is copied by hand, cheaper than a native call.
      this.room(1 + 3 * n + ROW_FIXED_MAX);
      const buf = this.buf;
      const start = this.pos + 1;
      let p = start;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = start + buf.write(s, start, 'utf8');
          break;
        }
        buf[p++] = c;
      }
      buf[this.pos] = p - start;
      this.pos = p;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.room(5 + bytes + ROW_FIXED_MAX);
    this.leb128(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * For a writer that writes a whole row itself (the transcoder's generated code): room for `n`
   * bytes in the current block, which `block` then is, written from `position` on; `commit` moves
   * the position past what was written (at most `n` bytes).
   */
  claim(n: number): number {
    this.room(n + ROW_FIXED_MAX);
    return this.pos;
  }

  get block(): Buffer {
    return this.buf;
  }

  commit(position: number): void {
    this.pos = position;
  }

  /** A String column from UTF-8 bytes already at hand (the transcoder copies them from the message). */
  utf8(src: Uint8Array, start: number, length: number): void {
    this.room(5 + length + ROW_FIXED_MAX);
    this.leb128(length);
    if (length < 32) {
      // Short names and addresses: a loop beats the native copy's call cost.
      const buf = this.buf;
      let p = this.pos;
      for (let i = start, end = start + length; i < end; i++) buf[p++] = src[i]!;
      this.pos = p;
    } else {
      this.buf.set(src.subarray(start, start + length), this.pos);
      this.pos += length;
    }
  }

  /** Bytes as they are, without a length (a Native column's name and type). */
  raw(src: Uint8Array): void {
    this.room(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** A String's byte length as LEB128 (room already made). */
  private leb128(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  /**
   * Everything written since the last call, as views of the blocks (empty when nothing was). The
   * next row starts a new block: the body's blocks are its own, to be given back to the pool.
   */
  take(): Buffer[] {
    if (this.pos > this.mark) {
      this.filled.push(this.buf.subarray(this.mark, this.pos));
      this.buf = EMPTY;
      this.pos = 0;
    }
    this.mark = this.pos;
    const out = this.filled;
    this.filled = [];
    this.bytes = 0;
    return out;
  }
}

/**
 * Every path of `room` taken once at load, with and without a pool. The transcoder's generated
 * functions inline `claim`, and a path of it first taken after V8 optimized them (a block's first
 * overflow, seconds into a backlog) deoptimizes them: each recompile of the fused reader costs
 * 60–100 ms of the JIT's time (`--trace-deopt`: "Insufficient type feedback for generic named
 * access" in `room`).
 */
for (const writer of [new RowBinaryWriter(), new RowBinaryWriter(new BlockPool(256, 1))]) {
  for (let i = 0; i < 3; i++) writer.commit(writer.claim(BLOCK_BYTES - ROW_FIXED_MAX) + BLOCK_BYTES - ROW_FIXED_MAX);
  writer.take();
}
