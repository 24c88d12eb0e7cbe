// The XML reader of import-sipp: CDATA kept as written, entities and
// character references decoded in text and attributes only, comments and the
// prolog skipped, every element with its line; what is not well-formed is one
// error with line and column; and the command's one line and exit 2 for it.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isElement, parseXml, textOf, XmlError } from '../../engine/sipp-import/xml.js';
import { finishRawText, LEN_MARK, DROP_LINE } from '../../engine/ua/raw-text.js';
import { runCli } from '../support/cli.js';

t.test('elements, attributes, CDATA, entities, comments, lines', async (t) => {
  const root = parseXml([
    '<?xml version="1.0" encoding="ISO-8859-1" ?>',
    '<!DOCTYPE scenario SYSTEM "sipp.dtd">',
    '<!-- a comment with <tags> & ampersands -->',
    '<scenario name="a &amp; b &#65;&#x42;">',
    '  <send><![CDATA[INVITE &amp; <x>]]></send>',
    '  <recv response="200"',
    "        optional='true'/>",
    '  <nop>text &lt;here&gt;</nop>',
    '</scenario>',
  ].join('\r\n'));
  t.equal(root.name, 'scenario');
  t.equal(root.attrs.get('name'), 'a & b AB', 'entities and character references in an attribute');
  const [send, recv, nop] = root.children.filter(isElement);
  t.equal(textOf(send!), 'INVITE &amp; <x>', 'CDATA as written');
  t.equal(send!.line, 5);
  t.equal(recv!.line, 6, 'the line of the element start');
  t.equal(recv!.attrs.get('optional'), 'true');
  t.equal(textOf(nop!), 'text <here>', 'entities in text');
});

t.test('what is not well-formed: one error, with line and column', async (t) => {
  const bad: [string, string, number, number][] = [
    ['<a>\n  <b></a>', '</a> closes <b> opened on line 2', 2, 6],
    ['<a>\n<b x="1" x="2"/></a>', "attribute 'x' given twice", 2, 10],
    ['<a>&nbsp;</a>', 'unknown entity &nbsp;', 1, 4],
    ['<a>\n<!-- x -- y -->\n</a>', "'--' inside a comment", 2, 1],
    ['<!DOCTYPE a [<!ENTITY e "x">]>\n<a/>', 'internal subset', 1, 1],
    ['<a>\n<b>', 'is never closed', 2, 4],
    ['<a x=1/>', "the value of 'x' must be quoted", 1, 6],
    ['<a/>\n<b/>', 'text after the root element', 2, 1],
  ];
  for (const [xml, what, line, col] of bad) {
    const err = t.throws(() => parseXml(xml)) as XmlError;
    t.ok(err instanceof XmlError, `${JSON.stringify(xml)}: an XmlError`);
    t.match(err.reason, what, `${JSON.stringify(xml)}: says ${what}`);
    t.same([err.line, err.col], [line, col], `${JSON.stringify(xml)}: at ${line}:${col}`);
  }
});

t.test('raw text: [len] counted last, a missing [last_*] takes its line', async (t) => {
  t.equal(finishRawText(`A\r\nContent-Length: ${LEN_MARK}\r\n\r\nhé\r\n`), 'A\r\nContent-Length: 5\r\n\r\nhé\r\n', 'the body in bytes');
  t.equal(finishRawText(`A\r\n${DROP_LINE}\r\nB\r\n`), 'A\r\nB\r\n', 'an empty line goes');
  t.equal(finishRawText(`A\r\nX: 1${DROP_LINE};tag=2\r\nB\r\n`), 'A\r\nX: 1\r\nB\r\n', 'the rest of the line goes');
});

t.test('import-sipp on XML that is not well-formed: one line, exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-xml-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.xml');
  writeFileSync(file, '<scenario>\n  <send><![CDATA[INVITE]]>\n</scenario>\n');
  const r = await runCli(['import-sipp', file], { outDir: false });
  t.equal(r.status, 2);
  t.equal(r.stderr, `sipstorm: ${file}:3:1: not well-formed XML: </scenario> closes <send> opened on line 2\n`);
  t.equal(r.stdout, '', 'nothing written');
});
