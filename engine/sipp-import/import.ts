// A SIPp XML scenario as a sipstorm scenario (YAML text): <send> as raw steps
// that do not wait, <recv response> as response steps, <recv request> as recv
// steps answered by the raw steps after them, <pause>/<timewait> as pauses,
// <label> and next/test as labels and (conditional) jumps, actions as
// captures and set steps. Everything the importer cannot carry over with the
// same behaviour is a Problem with its XML line: the caller exits 2 on any.
// The mapping table is the README's "Coming from SIPp".

import { Document, isMap, type Node, type YAMLMap } from 'yaml';
import { convertKeywords, KEYWORD_DEFAULTS, sippVar } from './keywords.js';
import { isElement, parseXml, textOf, type XmlElement } from './xml.js';

export interface Problem {
  line: number;
  what: string;
}

export interface Imported {
  yaml: string;
  problems: Problem[];
  /** SIPp CSV columns ([fieldN]) the scenario uses: a users CSV must have them (--users-csv). */
  fields: string[];
}

type Step = Record<string, unknown>;

/** Attributes that only shape SIPp's screen and statistics, or that sipstorm does by itself: no behaviour is lost. */
const DISPLAY_ONLY = new Set(['crlf', 'rtd', 'start_rtd', 'repeat_rtd', 'display', 'counter', 'hide', 'ignoresdp', 'retrans']);

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9', alpha: 'a-zA-Z', digit: '0-9', upper: 'A-Z', lower: 'a-z', xdigit: '0-9A-Fa-f', space: '\\s', blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~', word: '\\w',
};

/** POSIX extended regular expressions as SIPp writes them, in the JavaScript syntax of scenario patterns. */
function posixToJs(re: string): string {
  return re.replace(/\[:([a-z]+):\]/g, (whole, cls: string) => POSIX_CLASSES[cls] ?? whole);
}

function label(id: string): string {
  return `L${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** CDATA message text as SIPp reads it: each line trimmed, leading and trailing blank lines gone. */
function messageText(e: XmlElement): string {
  const lines = textOf(e).split('\n').map((l) => l.trim());
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  // Headers and body are parted by one empty line; a message without a body ends after its headers.
  return `${lines.join('\n')}\n`;
}

function ms(v: string): string {
  return `${Number(v)}ms`;
}

class Importer {
  readonly problems: Problem[] = [];
  readonly steps: { step: Step; line: number; comment?: string }[] = [];
  readonly fields = new Set<string>();
  usesCseq = false;
  /** The pauses of one pass through the scenario, longest case: the instance's timeout must leave room for them. */
  pauseMs = 0;
  auth: { user?: string; password?: string } | undefined;
  readonly vars: Record<string, string> = {};
  /** Elements by index, for SIPp's <jump value="N"/> (a jump to the Nth message). */
  private readonly jumpTargets = new Set<number>();

  problem(e: XmlElement, what: string): void {
    this.problems.push({ line: e.line, what: `<${e.name}> ${what}` });
  }

  private add(step: Step, e: XmlElement, comment?: string): void {
    const p = step.pause as string | Record<string, string> | undefined;
    if (p !== undefined) {
      const ms = (v: string | undefined) => Number((v ?? '0').replace(/ms$/, ''));
      this.pauseMs += typeof p === 'string' ? ms(p) : p.max !== undefined ? ms(p.max) : ms(p.mean) + 5 * ms(p.stddev ?? p.mean);
    }
    this.steps.push({ step, line: e.line, comment });
  }

  private checkAttrs(e: XmlElement, known: string[]): void {
    for (const [name, value] of e.attrs) {
      if (known.includes(name) || DISPLAY_ONLY.has(name)) continue;
      if (name === 'optional' && value === 'false') continue;
      this.problem(e, `attribute ${name}="${value}" is not converted`);
    }
  }

  private keywords(e: XmlElement, text: string): string {
    const k = convertKeywords(text);
    for (const u of k.unknown) this.problem(e, `keyword ${u} has no sipstorm equal`);
    for (const f of k.fields) this.fields.add(f);
    if (k.cseq) this.usesCseq = true;
    if (k.auth) {
      const prev = this.auth;
      if (prev && (prev.user !== k.auth.user || prev.password !== k.auth.password)) this.problem(e, 'names other credentials than an earlier [authentication]: not converted (sipstorm has one user and password per UA)');
      this.auth = k.auth;
    }
    if (/\$\{(service|media_port)\}/.test(k.text)) for (const [n, v] of Object.entries(KEYWORD_DEFAULTS)) if (k.text.includes(`\${${n}}`)) this.vars[n] = v;
    return k.text;
  }

  /** The jump after a step: SIPp's next (only when test's variable is set, if test is given). */
  private jumpAfter(e: XmlElement): void {
    const next = e.attrs.get('next');
    const test = e.attrs.get('test');
    if (next === undefined) {
      if (test !== undefined) this.problem(e, `attribute test="${test}" without next does nothing in SIPp either; not converted`);
      return;
    }
    this.add({ goto: label(next), ...(test !== undefined ? { if: sippVar(test) } : {}) }, e);
  }

  convert(root: XmlElement): void {
    if (root.name !== 'scenario') {
      this.problem(root, 'is not a SIPp scenario (the root element must be <scenario>)');
      return;
    }
    const elements = root.children.filter(isElement);
    // SIPp's <jump value="N"/> names a message by its index among the scenario's messages.
    elements.forEach((e) => {
      for (const a of e.children.filter(isElement)) if (a.name === 'action') {
        for (const j of a.children.filter(isElement)) if (j.name === 'jump' && j.attrs.has('value')) this.jumpTargets.add(Number(j.attrs.get('value')));
      }
    });
    let index = 0;
    for (const e of elements) {
      if (e.name === 'ResponseTimeRepartition' || e.name === 'CallLengthRepartition' || e.name === 'Reference') continue;
      if (this.jumpTargets.has(index)) this.add({ label: `M${index}` }, e);
      if (e.name !== 'label') index++;
      switch (e.name) {
        case 'send':
          this.send(e);
          break;
        case 'recv':
          this.recv(e);
          break;
        case 'pause':
          this.pause(e);
          break;
        case 'timewait':
          this.checkAttrs(e, ['milliseconds']);
          this.add({ pause: ms(e.attrs.get('milliseconds') ?? '0') }, e, 'timewait: the call stays open this long for retransmissions');
          break;
        case 'nop':
          this.checkAttrs(e, ['next', 'test']);
          for (const s of this.actions(e, undefined)) this.add(s, e);
          this.jumpAfter(e);
          break;
        case 'label':
          this.add({ label: label(e.attrs.get('id') ?? '') }, e);
          break;
        default:
          this.problem(e, 'has no sipstorm equal; not converted');
      }
    }
  }

  private send(e: XmlElement): void {
    this.checkAttrs(e, ['next', 'test']);
    const text = this.keywords(e, messageText(e));
    const first = text.slice(0, text.indexOf('\n'));
    const isRequest = !first.startsWith('SIP/2.0');
    if (text.includes('${var.cseq}') && isRequest && !/^(ACK|CANCEL) /.test(first)) this.add({ set: { 'var.cseq': { add: 1 } } }, e, 'SIPp counts [cseq] up with each request');
    this.add({ raw: text, wait: false }, e, first);
    for (const s of this.actions(e, undefined)) this.add(s, e);
    this.jumpAfter(e);
  }

  private recv(e: XmlElement): void {
    this.checkAttrs(e, ['response', 'request', 'optional', 'next', 'test', 'rrs', 'timeout', 'ontimeout', 'auth']);
    const step: Step = {};
    const response = e.attrs.get('response');
    const request = e.attrs.get('request');
    if (response !== undefined) {
      if (!/^[1-6][0-9][0-9]$/.test(response)) this.problem(e, `response="${response}" is not a response code`);
      step.response = Number(response);
    } else if (request !== undefined) {
      if (!/^[A-Z][A-Z0-9_.!%*+`'~-]*$/.test(request)) this.problem(e, `request="${request}" is not a SIP method`);
      step.recv = request;
      if (request !== 'ACK') step.reply = [];
    } else {
      this.problem(e, 'has neither response nor request');
      return;
    }
    const optional = e.attrs.get('optional');
    if (optional === 'true') step.optional = true;
    else if (optional === 'global') this.problem(e, `optional="global" (a message taken at any point of the call) is not converted`);
    if (e.attrs.get('rrs') === 'true') step.rrs = true;
    const timeout = e.attrs.get('timeout');
    if (timeout !== undefined) step.timeout = ms(timeout);
    // SIPp waits for a message without limit unless told; the scenario's timeout bounds the instance.
    else step.timeout = '60s';
    const ontimeout = e.attrs.get('ontimeout');
    if (ontimeout !== undefined) step.onTimeout = label(ontimeout);
    const after = this.actions(e, step);
    const next = e.attrs.get('next');
    const test = e.attrs.get('test');
    if (next !== undefined && after.length === 0) {
      // On the step itself, so that an optional receive with next stays in the run of receives SIPp tries in order.
      step.next = label(next);
      if (test !== undefined) step.if = sippVar(test);
      this.add(step, e);
      return;
    }
    this.add(step, e);
    for (const s of after) this.add(s, e);
    if (next !== undefined && optional === 'true') this.problem(e, 'an optional receive with next and actions is not converted');
    this.jumpAfter(e);
  }

  private pause(e: XmlElement): void {
    // The parameters of SIPp's other distributions are not listed: the distribution itself is reported.
    this.checkAttrs(e, ['milliseconds', 'distribution', 'min', 'max', 'mean', 'stdev', 'value', 'sanity_check', 'k', 'x_m', 'theta', 'mu', 'sigma', 'lambda', 'n', 'p']);
    const dist = e.attrs.get('distribution');
    const a = (k: string) => e.attrs.get(k);
    if (e.attrs.has('milliseconds')) this.add({ pause: ms(a('milliseconds')!) }, e);
    else if (dist === undefined) this.add({ pause: '0ms' }, e, "SIPp's -d (default 0) sets a pause without milliseconds");
    else if (dist === 'fixed' && a('value') !== undefined) this.add({ pause: ms(a('value')!) }, e);
    else if (dist === 'uniform' && a('min') !== undefined && a('max') !== undefined) this.add({ pause: { min: ms(a('min')!), max: ms(a('max')!) } }, e);
    else if (dist === 'normal' && a('mean') !== undefined && a('stdev') !== undefined) this.add({ pause: { mean: ms(a('mean')!), stddev: ms(a('stdev')!) } }, e);
    else if (dist === 'exponential' && a('mean') !== undefined) this.add({ pause: { mean: ms(a('mean')!), distribution: 'exponential' } }, e);
    else this.problem(e, `distribution="${dist}" is not converted (sipstorm pauses: fixed, uniform, normal, exponential)`);
  }

  /** The actions of an element: ereg as captures of `recv` (the step receiving); the steps to follow it (a set step, jumps). */
  private actions(e: XmlElement, recv: Step | undefined): Step[] {
    // Set steps in order: a variable set twice (assign, then add) starts a new step, so that each sees the last.
    const sets: Record<string, unknown>[] = [{}];
    const set = (name: string, value: unknown) => {
      if (Object.hasOwn(sets[sets.length - 1]!, name)) sets.push({});
      sets[sets.length - 1]![name] = value;
    };
    const jumps: Step[] = [];
    for (const action of e.children.filter(isElement)) {
      if (action.name !== 'action') {
        this.problem(action, `inside <${e.name}> is not converted`);
        continue;
      }
      for (const a of action.children.filter(isElement)) {
        const to = (a.attrs.get('assign_to') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const value = a.attrs.get('value');
        switch (a.name) {
          case 'ereg': {
            if (!recv) {
              this.problem(a, `outside a <recv> is not converted`);
              break;
            }
            const extra = [...a.attrs.keys()].filter((k) => !['regexp', 'search_in', 'header', 'check_it', 'assign_to'].includes(k));
            if (extra.length) this.problem(a, `attribute ${extra.join(', ')} is not converted`);
            const where = a.attrs.get('search_in') ?? 'msg';
            const regex = posixToJs(a.attrs.get('regexp') ?? '');
            const required = a.attrs.get('check_it') === 'true';
            const capture = (recv.capture ??= {}) as Record<string, unknown>;
            to.forEach((v, group) => {
              const src = where === 'hdr' ? { header: (a.attrs.get('header') ?? '').replace(/[:\s]+$/, ''), regex } : where === 'body' ? { body: regex } : { message: regex };
              capture[sippVar(v)] = { ...src, group, ...(required ? {} : { optional: true }) };
            });
            if (where !== 'hdr' && where !== 'body' && where !== 'msg') this.problem(a, `search_in="${where}" is not converted`);
            break;
          }
          case 'assign':
          case 'assignstr':
            for (const v of to) set(sippVar(v), this.keywords(a, value ?? ''));
            break;
          case 'add':
          case 'subtract':
          case 'multiply':
          case 'divide':
            for (const v of to) set(sippVar(v), { [a.name]: value ?? '0' });
            break;
          case 'test': {
            const ops: Record<string, string> = { equal: '==', not_equal: '!=', greater_than: '>', less_than: '<', greater_than_equal: '>=', less_than_equal: '<=' };
            const op = ops[a.attrs.get('compare') ?? ''];
            const variable = a.attrs.get('variable');
            if (!op || variable === undefined || value === undefined) {
              this.problem(a, `with compare="${a.attrs.get('compare')}" is not converted`);
              break;
            }
            for (const v of to) set(sippVar(v), { compare: [`\${${sippVar(variable)}}`, op, value] });
            break;
          }
          case 'jump': {
            const target = a.attrs.get('value');
            if (target === undefined) this.problem(a, 'without value (a variable jump) is not converted');
            else jumps.push({ goto: `M${Number(target)}` });
            break;
          }
          default:
            this.problem(a, `(action) has no sipstorm equal; not converted`);
        }
      }
    }
    return [...sets.filter((s) => Object.keys(s).length).map((s) => ({ set: s })), ...jumps];
  }

  yaml(name: string, file: string): string {
    const doc = new Document({
      name,
      // SIPp bounds no call; the instance may run its pauses and then wait up to a minute more.
      timeout: `${Math.ceil((this.pauseMs + 60_000) / 1000)}s`,
      ...(Object.keys(this.vars).length ? { vars: this.vars } : {}),
      ...(this.auth?.user !== undefined || this.auth?.password !== undefined
        ? { users: { ...(this.auth.user !== undefined ? { user: this.auth.user } : {}), ...(this.auth.password !== undefined ? { password: this.auth.password } : {}) } }
        : {}),
      autoAnswer: false,
      steps: this.steps.map((s) => s.step),
    });
    doc.commentBefore = ` Imported from ${file} by sipstorm import-sipp: SIPp's messages as raw steps.`;
    const seq = (doc.contents as YAMLMap).get('steps', true) as unknown as { items: Node[] };
    this.steps.forEach((s, i) => {
      const node = seq.items[i];
      if (node && isMap(node)) node.commentBefore = ` line ${s.line}${s.comment ? `: ${s.comment}` : ''}`;
    });
    return doc.toString({ lineWidth: 0, blockQuote: 'literal' });
  }
}

/** Converts SIPp XML text; XmlError (with line:col) when it is not well-formed XML. */
export function importSipp(xml: string, file: string): Imported {
  const root = parseXml(xml);
  const imp = new Importer();
  imp.convert(root);
  const name = root.attrs.get('name') ?? file.replace(/^.*\//, '').replace(/\.xml$/i, '');
  return { yaml: imp.yaml(name, file.replace(/^.*\//, '')), problems: imp.problems, fields: [...imp.fields] };
}
