// The one CSV reader of sipstorm (RFC 4180), shared by `serve` (accounts) and
// `run` (the identities of simulated UAs): fields separated by commas, records
// by CRLF or LF, fields in double quotes may hold commas, line breaks and
// doubled quotes (""), and the first record is a header naming the columns in
// any order. The input must be UTF-8 (a leading BOM is dropped): other bytes
// are bad input, reported with file:line:col, never turned into U+FFFD.
// Beyond RFC 4180, for files written by hand: blank lines and lines starting
// with '#' are skipped, and spaces around an unquoted field are trimmed (put a
// field in quotes to keep its spaces). Knows nothing of SIP.

import { readInputFile, type InputFileError } from '../input-file.js';
import { SipstormError } from '../errors.js';

export class CsvError extends SipstormError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  /** The header's names, trimmed and lower-cased. */
  header: string[];
  /** The line of the header (after any comment lines). */
  headerLine: number;
  /** The records after the header, each with as many cells as the header has names. */
  rows: CsvRecord[];
}

/** Reads and parses a CSV file; `what` names it in messages ('users CSV'). */
export function readCsvFile(file: string, what = 'CSV'): CsvTable {
  let bytes: Buffer;
  try {
    // A regular file within the size limit of CSVs, checked before reading (engine/input-file.ts).
    bytes = readInputFile(file, 'csv');
  } catch (err) {
    const e = err as InputFileError;
    if (e.code === 'INPUT_MISSING') throw new CsvError('CSV_UNREADABLE', `${file}: cannot read ${what} (ENOENT)`);
    throw new CsvError(e.code === 'INPUT_TOO_LARGE' ? 'CSV_TOO_LARGE' : 'CSV_UNREADABLE', `${file}: ${what} ${e.reason ?? e.message}`);
  }
  return parseCsv(bytes, file, what);
}

export function parseCsv(bytes: Buffer, file: string, what = 'CSV'): CsvTable {
  const text = decodeUtf8(bytes, file, what);
  const records = parseRecords(text, file);
  if (records.length === 0) throw new CsvError('CSV_EMPTY', `${file}: ${what} is empty`);
  const [head, ...rows] = records;
  const header = head!.cells.map((h) => h.trim().toLowerCase());
  const seen = new Set<string>();
  for (const h of header) {
    if (h !== '' && seen.has(h)) throw new CsvError('CSV_BAD_HEADER', `${file}:${head!.line}: column '${h}' appears twice in the header`);
    seen.add(h);
  }
  for (const r of rows) {
    if (r.cells.length !== header.length) {
      throw new CsvError('CSV_BAD_ROW', `${file}:${r.line}: expected ${header.length} columns, found ${r.cells.length}`);
    }
  }
  return { header, headerLine: head!.line, rows };
}

/** RFC 4180 §2 over the decoded text: records of fields, with the line each record starts on. */
function parseRecords(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    // Blank lines and comment lines between records.
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    let end = text.indexOf('\n', i);
    if (end < 0) end = n;
    if (text[i] === '#' || text.slice(i, end).trim() === '') {
      i = end; // a comment, or a line of nothing but spaces
      continue;
    }
    const cells: string[] = [];
    let lineStart = text.lastIndexOf('\n', i - 1) + 1;
    for (;;) {
      // One field.
      let j = i;
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
      if (text[j] === '"') {
        const openLine = line;
        const openCol = j - lineStart + 1;
        let value = '';
        j++;
        for (;;) {
          if (j >= n) throw new CsvError('CSV_BAD_QUOTE', `${file}:${openLine}:${openCol}: quoted field is never closed`);
          const ch = text[j]!;
          if (ch === '"') {
            if (text[j + 1] === '"') {
              value += '"';
              j += 2;
              continue;
            }
            j++;
            break;
          }
          if (ch === '\n') {
            line++;
            lineStart = j + 1;
          }
          value += ch;
          j++;
        }
        while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
        if (j < n && text[j] !== ',' && text[j] !== '\n' && !(text[j] === '\r' && text[j + 1] === '\n')) {
          throw new CsvError('CSV_BAD_QUOTE', `${file}:${line}:${j - lineStart + 1}: '${text[j]}' after a closing quote (a field is one quoted string; write "" for a quote inside)`);
        }
        cells.push(value);
        i = j;
      } else {
        let k = j;
        while (k < n && text[k] !== ',' && text[k] !== '\n' && !(text[k] === '\r' && text[k + 1] === '\n')) {
          if (text[k] === '"') {
            throw new CsvError('CSV_BAD_QUOTE', `${file}:${line}:${k - lineStart + 1}: a quote inside an unquoted field (quote the whole field and double the quote: "a""b")`);
          }
          k++;
        }
        cells.push(text.slice(j, k).replace(/[ \t]+$/, ''));
        i = k;
      }
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      // End of record: CRLF, LF or the end of the text.
      if (i < n) {
        i += text[i] === '\r' ? 2 : 1;
        line++;
      }
      break;
    }
    records.push({ line: start, cells });
  }
  return records;
}

/** Strict UTF-8: the first byte that is not well-formed UTF-8 is reported with its line and column. */
function decodeUtf8(bytes: Buffer, file: string, what: string): string {
  let body = bytes;
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  const bad = firstInvalidUtf8(body);
  if (bad >= 0) {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < bad; i++) {
      if (body[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const col = body.subarray(lineStart, bad).toString('utf8').length + 1;
    throw new CsvError('CSV_NOT_UTF8', `${file}:${line}:${col}: ${what} is not UTF-8 (byte 0x${body[bad]!.toString(16).padStart(2, '0')}); save it as UTF-8`);
  }
  return body.toString('utf8');
}

/** Offset of the first byte of an ill-formed UTF-8 sequence (Unicode Table 3-7), or -1. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= b.length) return i; // cut short by the end of the file
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const x = b[i + k]!;
      if (x < 0x80 || x > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
