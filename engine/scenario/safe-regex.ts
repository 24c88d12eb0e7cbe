// Regular expressions that run in linear time: the patterns of scenario
// `expect`/`capture` and of conformance suites' `match`/`absent` come from
// files and are applied to text a server sends, so a backtracking engine
// (JavaScript's RegExp) lets a hostile server hang a worker with a crafted
// header (`^([\w.-]+/?[\w.-]*\s?)+$` against 24 characters took 84 s).
//
// This is a Thompson NFA run as a Pike VM (the technique of RE2 and Go's
// regexp): every input character is looked at once per NFA state, so a match
// costs at most (subject length × program size) steps, whatever the pattern.
// Submatches follow JavaScript's leftmost-first priority, so captures pick
// what RegExp#exec would.
//
// The syntax is JavaScript's without the features that need backtracking:
// literals and escapes (\t \n \r \f \v \0 \xHH \uHHHH \cX, any escaped
// punctuation), `.`, classes `[a-z]`, `[^...]`, \d \D \w \W \s \S, anchors
// ^ $ (whole subject) \b \B, groups `(...)`, `(?:...)`, `(?<name>...)`,
// alternation `|`, quantifiers * + ? {n} {n,} {n,m} (m <= 1000) and their lazy
// forms. Refused with the position: backreferences (\1, \k<name>), lookahead
// and lookbehind, inline flags. Limits: a compiled program of at most
// MAX_PROGRAM instructions, a subject of at most MAX_SUBJECT characters and
// MAX_WORK characters × instructions (fits(); callers fail the check on a
// text that does not fit).

import { SipstormError } from '../errors.js';

/** Instructions of a compiled pattern; a{1000}{1000}-style blowups are refused beyond this. */
export const MAX_PROGRAM = 2000;
/** The longest text a pattern is applied to (a header value or a body), in characters. */
export const MAX_SUBJECT = 65_536;
/**
 * The most work one match may take, in text characters × program instructions (a few ms): the
 * largest pattern fits texts of 2,000 characters, a usual one of 60 instructions the longest.
 */
export const MAX_WORK = 4_000_000;
const MAX_REPEAT = 1000;

export class RegexError extends SipstormError {
  constructor(
    message: string,
    /** 0-based offset in the pattern where the problem is. */
    readonly offset: number,
  ) {
    super('REGEX_UNSUPPORTED', message);
  }
}

// ---- character sets ----

type Ranges = number[]; // flat [lo, hi, lo, hi, ...], inclusive
interface CharSet {
  ranges: Ranges;
  negated: boolean;
}

const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// ECMAScript WhiteSpace and LineTerminator (what \s matches in RegExp).
const SPACE: Ranges = [0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff];
const LINE_END: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029];

function inRanges(r: Ranges, c: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (c >= r[i]! && c <= r[i + 1]!) return true;
  return false;
}

function complement(r: Ranges): Ranges {
  const sorted: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) sorted.push([r[i]!, r[i + 1]!]);
  sorted.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push(next, lo - 1);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push(next, 0xffff);
  return out;
}

function setMatches(set: CharSet, c: number, ignoreCase: boolean): boolean {
  let hit = inRanges(set.ranges, c);
  if (!hit && ignoreCase) {
    const s = String.fromCharCode(c);
    const lo = s.toLowerCase();
    const up = s.toUpperCase();
    hit = (lo.length === 1 && inRanges(set.ranges, lo.charCodeAt(0))) || (up.length === 1 && inRanges(set.ranges, up.charCodeAt(0)));
  }
  return hit !== set.negated;
}

// ---- syntax tree ----

type Node =
  | { t: 'set'; set: CharSet }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'group'; index: number | undefined; node: Node }
  | { t: 'rep'; min: number; max: number; greedy: boolean; node: Node }
  | { t: 'assert'; kind: Assertion };

type Assertion = 'start' | 'end' | 'word' | 'notword';

/** Groups nested deeper than this are refused (the parser and compiler recurse once per level). */
const MAX_NESTING = 100;

class Parser {
  private i = 0;
  private depth = 0;
  groups = 0;

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) throw new RegexError(`unmatched ')'`, this.i);
    return node;
  }

  private fail(message: string, at = this.i): never {
    throw new RegexError(message, at);
  }

  private alternation(): Node {
    const items = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const at = this.i;
      let atom = this.atom();
      for (;;) {
        const q = this.quantifier();
        if (!q) break;
        if (atom.t === 'assert') this.fail('nothing to repeat', at);
        if (atom.t === 'rep') this.fail('nothing to repeat', this.i - 1);
        atom = { t: 'rep', node: atom, ...q };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  /** A quantifier at the cursor, or undefined (a '{' that is no quantifier is a literal, as in RegExp). */
  private quantifier(): { min: number; max: number; greedy: boolean } | undefined {
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return undefined;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) this.fail('numbers out of order in {} quantifier');
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`a repeat count above ${MAX_REPEAT}`);
      this.i += m[0].length - 1;
    } else return undefined;
    this.i++;
    let greedy = true;
    if (this.src[this.i] === '?') {
      greedy = false;
      this.i++;
    }
    return { min, max, greedy };
  }

  private atom(): Node {
    const at = this.i;
    const c = this.src[this.i++]!;
    switch (c) {
      case '^':
        return { t: 'assert', kind: 'start' };
      case '$':
        return { t: 'assert', kind: 'end' };
      case '.':
        return { t: 'set', set: { ranges: LINE_END, negated: true } };
      case '[':
        return { t: 'set', set: this.bracket() };
      case '(':
        return this.group(at);
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', at);
      default:
        if (c === '{' && /^\d+(,\d*)?\}/.test(this.src.slice(this.i))) this.fail('nothing to repeat', at);
        return literal(c.charCodeAt(0));
    }
  }

  private group(at: number): Node {
    if (++this.depth > MAX_NESTING) this.fail(`groups nested more than ${MAX_NESTING} deep`, at);
    let index: number | undefined;
    if (this.src.startsWith('?:', this.i)) this.i += 2;
    else if (this.src.startsWith('?=', this.i) || this.src.startsWith('?!', this.i)) this.fail('lookahead (?= (?! is not supported (sipstorm matches in linear time)', at);
    else if (this.src.startsWith('?<=', this.i) || this.src.startsWith('?<!', this.i)) this.fail('lookbehind (?<= (?<! is not supported (sipstorm matches in linear time)', at);
    else if (this.src.startsWith('?<', this.i)) {
      const m = /^\?<([A-Za-z_$][\w$]*)>/.exec(this.src.slice(this.i));
      if (!m) this.fail('invalid group name', at);
      this.i += m[0].length;
      index = ++this.groups;
    } else if (this.src[this.i] === '?') this.fail('invalid group: only (...), (?:...) and (?<name>...) are supported', at);
    else index = ++this.groups;
    const node = this.alternation();
    if (this.src[this.i] !== ')') this.fail("unterminated group: missing ')'", at);
    this.i++;
    this.depth--;
    return { t: 'group', index, node };
  }

  /** After a backslash; `inClass`: \b is a backspace there and \B, ^, $ have no meaning. */
  private escape(inClass: boolean): Node {
    const at = this.i - 1;
    if (this.i >= this.src.length) this.fail('\\ at end of pattern', at);
    const c = this.src[this.i++]!;
    switch (c) {
      case 'd':
        return { t: 'set', set: { ranges: DIGIT, negated: false } };
      case 'D':
        return { t: 'set', set: { ranges: DIGIT, negated: true } };
      case 'w':
        return { t: 'set', set: { ranges: WORD, negated: false } };
      case 'W':
        return { t: 'set', set: { ranges: WORD, negated: true } };
      case 's':
        return { t: 'set', set: { ranges: SPACE, negated: false } };
      case 'S':
        return { t: 'set', set: { ranges: SPACE, negated: true } };
      case 'b':
        return inClass ? literal(8) : { t: 'assert', kind: 'word' };
      case 'B':
        if (inClass) return literal(0x42);
        return { t: 'assert', kind: 'notword' };
      case 't':
        return literal(9);
      case 'n':
        return literal(10);
      case 'v':
        return literal(11);
      case 'f':
        return literal(12);
      case 'r':
        return literal(13);
      case 'c': {
        const l = this.src[this.i];
        if (l && /[A-Za-z]/.test(l)) {
          this.i++;
          return literal(l.charCodeAt(0) % 32);
        }
        return literal(0x5c, 0x63);
      }
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i));
        if (!m) return literal(0x78);
        this.i += 2;
        return literal(parseInt(m[0], 16));
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.i));
        if (!m) return literal(0x75);
        this.i += 4;
        return literal(parseInt(m[0], 16));
      }
      case 'k':
        if (!inClass && this.src[this.i] === '<') this.fail('backreferences (\\k<name>) are not supported (sipstorm matches in linear time)', at);
        return literal(0x6b);
      default:
        if (c === '0' && !/[0-9]/.test(this.src[this.i] ?? '')) return literal(0);
        if (/[1-9]/.test(c)) {
          if (inClass) this.fail('octal escapes are not supported', at);
          this.fail(`backreferences (\\${c}) are not supported (sipstorm matches in linear time)`, at);
        }
        if (c === '0') this.fail('octal escapes are not supported', at);
        // Any other escaped character stands for itself (\. \/ \- \[ ...).
        return literal(c.charCodeAt(0));
    }
  }

  private bracket(): CharSet {
    const at = this.i - 1;
    let negated = false;
    if (this.src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const ranges: Ranges = [];
    for (;;) {
      if (this.i >= this.src.length) this.fail("unterminated character class: missing ']'", at);
      if (this.src[this.i] === ']') {
        this.i++;
        break;
      }
      const lo = this.classAtom();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        const dash = this.i;
        this.i++;
        const hi = this.classAtom();
        if (lo.single === undefined || hi.single === undefined) {
          // [\d-x]: the dash is a literal, as RegExp takes it outside unicode mode.
          ranges.push(...lo.ranges, 0x2d, 0x2d, ...hi.ranges);
          continue;
        }
        if (hi.single < lo.single) this.fail('range out of order in character class', dash);
        ranges.push(lo.single, hi.single);
      } else ranges.push(...lo.ranges);
    }
    return { ranges, negated };
  }

  private classAtom(): { ranges: Ranges; single?: number } {
    const c = this.src[this.i++]!;
    if (c !== '\\') return { ranges: [c.charCodeAt(0), c.charCodeAt(0)], single: c.charCodeAt(0) };
    const node = this.escape(true);
    if (node.t !== 'set' && node.t !== 'cat') this.fail('unexpected escape in character class', this.i - 2);
    if (node.t === 'cat') {
      // \c or \x without digits: two literal characters.
      const out: Ranges = [];
      for (const it of node.items) if (it.t === 'set') out.push(...it.set.ranges);
      return { ranges: out };
    }
    const { ranges, negated } = node.set;
    if (negated) return { ranges: complement(ranges) };
    return ranges.length === 2 && ranges[0] === ranges[1] ? { ranges, single: ranges[0] } : { ranges };
  }
}

function literal(...codes: number[]): Node {
  const sets: Node[] = codes.map((c) => ({ t: 'set', set: { ranges: [c, c], negated: false } }));
  return sets.length === 1 ? sets[0]! : { t: 'cat', items: sets };
}

// ---- program ----

const enum Op {
  Char,
  Split,
  Jmp,
  Save,
  Assert,
  Match,
  /** Clears the captures of groups inside a repeated body at each iteration, as RegExp does. */
  Reset,
}

interface Inst {
  op: Op;
  set: CharSet | undefined;
  /** Char: whether each ASCII character matches (most of what SIP carries), precomputed. */
  ascii: Uint8Array | undefined;
  /** Split: preferred branch x, then y. Jmp: x. */
  x: number;
  y: number;
  /** Save: capture slot; Reset: the first slot to clear. */
  slot: number;
  /** Reset: one past the last slot to clear. */
  end: number;
  kind: Assertion | undefined;
}

class Emitter {
  readonly prog: Inst[] = [];

  constructor(private readonly ignoreCase: boolean) {}

  private push(partial: Partial<Inst> & { op: Op }): number {
    // Every instruction has every field: one object shape, fast property reads in the VM.
    if (this.prog.length >= MAX_PROGRAM) throw new RegexError(`the pattern is too large (more than ${MAX_PROGRAM} instructions once its repeats are expanded)`, 0);
    const inst: Inst = { set: undefined, ascii: undefined, x: 0, y: 0, slot: 0, end: 0, kind: undefined, ...partial };
    if (inst.set) {
      inst.ascii = new Uint8Array(128);
      for (let c = 0; c < 128; c++) inst.ascii[c] = setMatches(inst.set, c, this.ignoreCase) ? 1 : 0;
    }
    this.prog.push(inst);
    return this.prog.length - 1;
  }

  emit(n: Node): void {
    switch (n.t) {
      case 'set':
        this.push({ op: Op.Char, set: n.set });
        return;
      case 'assert':
        this.push({ op: Op.Assert, kind: n.kind });
        return;
      case 'cat':
        for (const it of n.items) this.emit(it);
        return;
      case 'alt': {
        // split L1, next; L1: a; jmp end; next: split L2, ... ; last
        const jumps: number[] = [];
        for (let k = 0; k < n.items.length; k++) {
          if (k < n.items.length - 1) {
            const split = this.push({ op: Op.Split });
            this.prog[split]!.x = this.prog.length;
            this.emit(n.items[k]!);
            jumps.push(this.push({ op: Op.Jmp }));
            this.prog[split]!.y = this.prog.length;
          } else this.emit(n.items[k]!);
        }
        for (const j of jumps) this.prog[j]!.x = this.prog.length;
        return;
      }
      case 'group':
        if (n.index !== undefined) this.push({ op: Op.Save, slot: 2 * n.index });
        this.emit(n.node);
        if (n.index !== undefined) this.push({ op: Op.Save, slot: 2 * n.index + 1 });
        return;
      case 'rep': {
        const groups = groupsIn(n.node);
        const body = () => {
          if (groups) this.push({ op: Op.Reset, slot: 2 * groups[0], end: 2 * groups[1] + 2 });
          this.emit(n.node);
        };
        for (let k = 0; k < n.min; k++) body();
        if (n.max === Infinity) {
          // L: split body, out; body; jmp L
          const split = this.push({ op: Op.Split });
          body();
          this.push({ op: Op.Jmp, x: split });
          this.setSplit(split, split + 1, this.prog.length, n.greedy);
          return;
        }
        // Nested optionals: (x(x(x)?)?)?, each jumping to the end when it stops.
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          splits.push(this.push({ op: Op.Split }));
          body();
        }
        for (const s of splits) this.setSplit(s, s + 1, this.prog.length, n.greedy);
        return;
      }
    }
  }

  private setSplit(at: number, body: number, out: number, greedy: boolean): void {
    const inst = this.prog[at]!;
    inst.x = greedy ? body : out;
    inst.y = greedy ? out : body;
  }

  finish(): Inst[] {
    this.push({ op: Op.Match });
    return this.prog;
  }
}

/** The first and last capture group numbers inside a node, if any. */
function groupsIn(n: Node): [number, number] | undefined {
  let lo = Infinity;
  let hi = -1;
  const walk = (x: Node) => {
    if (x.t === 'group') {
      if (x.index !== undefined) [lo, hi] = [Math.min(lo, x.index), Math.max(hi, x.index)];
      walk(x.node);
    } else if (x.t === 'cat' || x.t === 'alt') x.items.forEach(walk);
    else if (x.t === 'rep') walk(x.node);
  };
  walk(n);
  return hi < 0 ? undefined : [lo, hi];
}

const isWord = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);

/** A compiled pattern; plain data plus methods, cheap to share within one thread. */
export class SafeRegex {
  private readonly prog: Inst[];
  private readonly slots: number;
  /** A pattern with no operator at all is a substring search. */
  private readonly plain: string | undefined;
  /** Where a match can start: only at 0 (a leading ^), or only where this text is (a literal prefix). */
  private readonly anchored: boolean;
  private readonly prefix: string;
  /** Per-run scratch, reused: one thread per instruction per position (the matcher is not re-entrant, and needs not be). */
  private readonly seen: Int32Array;
  private readonly stackPc: Int32Array;
  private readonly stackCaps: (number[] | undefined)[];

  constructor(
    readonly source: string,
    readonly ignoreCase = false,
  ) {
    const parser = new Parser(source);
    const tree = parser.parse();
    const e = new Emitter(ignoreCase);
    e.emit({ t: 'group', index: 0, node: tree });
    this.prog = e.finish();
    this.slots = 2 * (parser.groups + 1);
    this.plain = /^[^\\^$.|?*+()[\]{}]*$/.test(source) ? (ignoreCase ? source.toLowerCase() : source) : undefined;
    const lead = tree.t === 'cat' ? tree.items : [tree];
    this.anchored = lead[0]?.t === 'assert' && lead[0].kind === 'start';
    let prefix = '';
    for (const it of lead) {
      if (ignoreCase || it.t !== 'set' || it.set.negated || it.set.ranges.length !== 2 || it.set.ranges[0] !== it.set.ranges[1]) break;
      prefix += String.fromCharCode(it.set.ranges[0]!);
    }
    this.prefix = prefix;
    this.seen = new Int32Array(this.prog.length);
    this.stackPc = new Int32Array(2 * this.prog.length + 2);
    this.stackCaps = new Array(2 * this.prog.length + 2);
  }

  /** Whether this pattern may be applied to the text (MAX_SUBJECT, MAX_WORK); callers fail the check when not. */
  fits(input: string): boolean {
    return input.length <= this.longestText;
  }

  /** The longest text this pattern may be applied to. */
  get longestText(): number {
    return Math.min(MAX_SUBJECT, Math.floor(MAX_WORK / this.prog.length));
  }

  test(input: string): boolean {
    if (this.plain !== undefined) return (this.ignoreCase ? input.toLowerCase() : input).includes(this.plain);
    return this.run(input, false) !== null;
  }

  /** Like RegExp#exec: the whole match first, then each group (undefined when it took no part); null when no match. */
  exec(input: string): (string | undefined)[] | null {
    const caps = this.run(input, true);
    if (!caps) return null;
    const out: (string | undefined)[] = [];
    for (let k = 0; k < this.slots; k += 2) out.push(caps[k]! >= 0 && caps[k + 1]! >= 0 ? input.slice(caps[k], caps[k + 1]) : undefined);
    return out;
  }

  private assertion(kind: Assertion, input: string, i: number): boolean {
    switch (kind) {
      case 'start':
        return i === 0;
      case 'end':
        return i === input.length;
      default: {
        const a = i > 0 && isWord(input.charCodeAt(i - 1));
        const b = i < input.length && isWord(input.charCodeAt(i));
        return (a !== b) === (kind === 'word');
      }
    }
  }

  /**
   * Follows Jmp/Split/Save/Reset/Assert from pc0 at position i, appending the Char and Match threads
   * it reaches to (pcs, caps) in priority order; returns the new count. At most one thread per
   * instruction per position (seen[pc] === i), which is what bounds the work.
   */
  private follow(pcs: Int32Array, caps: (number[] | undefined)[], count: number, pc0: number, caps0: number[] | undefined, i: number, input: string): number {
    const prog = this.prog;
    const seen = this.seen;
    const stackPc = this.stackPc;
    const stackCaps = this.stackCaps;
    let top = 0;
    stackPc[top] = pc0;
    stackCaps[top++] = caps0;
    while (top > 0) {
      const pc = stackPc[--top]!;
      const c = stackCaps[top];
      if (seen[pc] === i) continue;
      seen[pc] = i;
      const inst = prog[pc]!;
      switch (inst.op) {
        case Op.Jmp:
          stackPc[top] = inst.x;
          stackCaps[top++] = c;
          break;
        case Op.Split:
          stackPc[top] = inst.y;
          stackCaps[top++] = c;
          stackPc[top] = inst.x;
          stackCaps[top++] = c;
          break;
        case Op.Save: {
          let next = c;
          if (c) {
            next = c.slice();
            next[inst.slot] = i;
          }
          stackPc[top] = pc + 1;
          stackCaps[top++] = next;
          break;
        }
        case Op.Reset: {
          let next = c;
          if (c) {
            next = c.slice();
            next.fill(-1, inst.slot, inst.end);
          }
          stackPc[top] = pc + 1;
          stackCaps[top++] = next;
          break;
        }
        case Op.Assert:
          if (this.assertion(inst.kind!, input, i)) {
            stackPc[top] = pc + 1;
            stackCaps[top++] = c;
          }
          break;
        default:
          pcs[count] = pc;
          caps[count++] = c;
      }
    }
    return count;
  }

  /** The Pike VM: threads in priority order; without wantCaps, no capture arrays at all. */
  private run(input: string, wantCaps: boolean): number[] | null {
    const prog = this.prog;
    const n = input.length;
    this.seen.fill(-1);
    const size = prog.length;
    let cpc = new Int32Array(size);
    let ccaps: (number[] | undefined)[] = new Array(size);
    let npc = new Int32Array(size);
    let ncaps: (number[] | undefined)[] = new Array(size);
    let ccount = 0;
    let ncount = 0;
    let matched: number[] | undefined;
    let found = false;
    for (let i = 0; ; i++) {
      // Unanchored search: a new thread at each position, below every older one, until something matched.
      if (!found && ccount === 0) {
        // No thread alive: skip to where a match can start.
        if (this.anchored && i > 0) break;
        if (this.prefix) {
          const next = input.indexOf(this.prefix, i);
          if (next < 0) break;
          i = next;
        }
      }
      if (!found) ccount = this.follow(cpc, ccaps, ccount, 0, wantCaps ? new Array<number>(this.slots).fill(-1) : undefined, i, input);
      if (ccount === 0 && found) break;
      const c = i < n ? input.charCodeAt(i) : -1;
      for (let k = 0; k < ccount; k++) {
        const inst = prog[cpc[k]!]!;
        if (inst.op === Op.Match) {
          found = true;
          matched = ccaps[k];
          if (!wantCaps) return [];
          break; // lower-priority threads are cut off
        }
        if (c >= 0 && (c < 128 ? inst.ascii![c] === 1 : setMatches(inst.set!, c, this.ignoreCase))) {
          ncount = this.follow(npc, ncaps, ncount, cpc[k]! + 1, ccaps[k], i + 1, input);
        }
      }
      if (i >= n) break;
      [cpc, npc] = [npc, cpc];
      [ccaps, ncaps] = [ncaps, ccaps];
      ccount = ncount;
      ncount = 0;
    }
    return found ? (matched ?? []) : null;
  }
}

/** Compiles a pattern or throws RegexError with a message that names the problem and its offset. */
export function compileSafeRegex(source: string, ignoreCase = false): SafeRegex {
  return new SafeRegex(source, ignoreCase);
}
