/**
 * A streaming RFC 4180 CSV row splitter, written for throughput: billing exports are multi-GB and
 * the importer must sustain 100,000 rows/s. csv-parse (36k rows/s on 44-column FOCUS rows here),
 * papaparse (~90-130k parse-only) and udsv (fast, but silently merges a short row into the next
 * one) were measured and rejected; see docs/notes/ingest-probe-billing.md. The unit tests check
 * this splitter against csv-parse on the fixtures and on edge cases.
 *
 * Rows come out as string arrays with the 1-based line number where they start, so a bad row can
 * be reported as `file:line`. Quoted fields may hold commas, doubled quotes and newlines.
 */
const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export interface CsvRow {
  fields: string[];
  /** 1-based line where the row starts. */
  line: number;
  /** Set when the row is malformed (e.g. text after a closing quote); fields are best effort. */
  error?: string;
}

/** Largest row accepted (an unterminated quote would otherwise buffer the whole file). */
export const maxRowChars = 8 * 1024 * 1024;

export class CsvSplitter {
  private rest = '';
  private line = 1;
  private first = true;
  private width = 0;
  private keep: readonly boolean[] | undefined;

  /**
   * Materializes only these columns (others read as ''): rows are still split and counted in full,
   * but unused fields cost no string each. Undefined keeps every column.
   */
  setKeep(keep: readonly boolean[] | undefined): void {
    this.keep = keep;
  }

  /** Feeds a chunk of text; calls `onRow` for every complete row. */
  push(chunk: string, onRow: (row: CsvRow) => void): void {
    let text = this.rest.length > 0 ? this.rest + chunk : chunk;
    if (this.first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    const used = this.parse(text, false, onRow);
    this.rest = used < text.length ? text.slice(used) : '';
    if (this.rest.length > maxRowChars) {
      throw new Error(`line ${this.line}: row longer than ${maxRowChars} characters (unterminated quote?)`);
    }
  }

  /** Flushes the last row (a file need not end with a newline). */
  end(onRow: (row: CsvRow) => void): void {
    if (this.rest.length > 0) this.parse(this.rest, true, onRow);
    this.rest = '';
  }

  /** Parses as many complete rows as `text` holds; returns how many characters were consumed. */
  private parse(text: string, final: boolean, onRow: (row: CsvRow) => void): number {
    const len = text.length;
    const keep = this.keep;
    let pos = 0;
    while (pos < len) {
      const startLine = this.line;
      // Pre-sized from the previous row's width: no array growth while the fields are pushed.
      const fields: string[] = this.width > 0 ? new Array<string>(this.width) : [];
      let nf = 0;
      let p = pos;
      let newlines = 0;
      let error: string | undefined;
      let complete = false;
      for (;;) {
        if (p >= len) {
          if (!final) break;
          fields[nf++] = '';
          complete = true;
          break;
        }
        if (text.charCodeAt(p) === QUOTE) {
          let q = p + 1;
          const wanted = keep === undefined || keep[nf] !== false;
          let value = '';
          let closed = false;
          for (;;) {
            const e = text.indexOf('"', q);
            if (e === -1) break;
            if (e + 1 >= len && !final) break; // cannot tell "" from a closing quote yet
            if (text.charCodeAt(e + 1) === QUOTE) {
              if (wanted) value += text.slice(q, e + 1);
              q = e + 2;
              continue;
            }
            if (wanted) value += text.slice(q, e);
            p = e + 1;
            closed = true;
            break;
          }
          if (!closed) {
            if (final) {
              error = 'unterminated quoted field';
              value += text.slice(q);
              fields[nf++] = value;
              p = len;
              complete = true;
            }
            break;
          }
          fields[nf++] = value;
          if (p >= len) {
            if (!final) break;
            complete = true;
            break;
          }
          let c = text.charCodeAt(p);
          if (c !== COMMA && c !== LF && c !== CR) {
            // Text after a closing quote: keep it in the field, flag the row.
            error ??= 'unexpected text after a closing quote';
            let e = p;
            while (e < len) {
              c = text.charCodeAt(e);
              if (c === COMMA || c === LF) break;
              e++;
            }
            if (e >= len && !final) break;
            fields[nf - 1] += text.slice(p, e);
            p = e;
            if (p >= len) {
              complete = true;
              break;
            }
          }
          if (c === CR) {
            if (p + 1 >= len && !final) break;
            p++;
            c = p < len ? text.charCodeAt(p) : LF;
          }
          if (c === COMMA) {
            p++;
            continue;
          }
          p++; // LF (or end)
          complete = true;
          break;
        }
        // Unquoted field: up to the next comma or end of line.
        let e = p;
        let c = 0;
        while (e < len) {
          c = text.charCodeAt(e);
          if (c === COMMA || c === LF) break;
          e++;
        }
        if (e >= len && !final) break;
        let end = e;
        if (end > p && text.charCodeAt(end - 1) === CR) end--;
        fields[nf] = keep === undefined || keep[nf] !== false ? text.slice(p, end) : '';
        nf++;
        if (e >= len) {
          p = e;
          complete = true;
          break;
        }
        p = e + 1;
        if (c === COMMA) continue;
        complete = true;
        break;
      }
      if (!complete) break;
      // Newlines inside quoted fields: one indexOf per row finds whether there are any.
      let contentEnd = p;
      if (contentEnd > pos && text.charCodeAt(contentEnd - 1) === LF) contentEnd--;
      if (contentEnd > pos && text.charCodeAt(contentEnd - 1) === CR) contentEnd--;
      let nl = text.indexOf('\n', pos);
      while (nl !== -1 && nl < contentEnd) {
        newlines++;
        nl = text.indexOf('\n', nl + 1);
      }
      this.line += 1 + newlines;
      pos = p;
      // Blank lines carry no row.
      if (fields.length !== nf) fields.length = nf;
      if (nf === 1 && fields[0] === '' && error === undefined) continue;
      this.width = nf;
      onRow(error ? { fields, line: startLine, error } : { fields, line: startLine });
    }
    return pos;
  }
}
