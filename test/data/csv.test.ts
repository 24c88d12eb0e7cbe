// The one CSV reader (RFC 4180) over fixture files, and through both of its
// users: the embedded server's accounts and run's identities read the same
// files the same way (quotes, doubled quotes, CRLF and LF, columns in any
// order, ';' as an ordinary character), and refuse the same bad files with
// the same file:line:col line.

import t from 'tap';
import { parseCsv, readCsvFile } from '../../engine/data/csv.js';
import { createUserDirectory } from '../../engine/server/index.js';
import { csvIdentities } from '../../engine/ua/index.js';
import { ROOT } from '../support/cli.js';

const fx = (name: string) => `test/fixtures/csv/${name}`;
process.chdir(ROOT);

t.test('quoted fields with commas, doubled quotes and line breaks; CRLF; header columns in any order', async (t) => {
  const table = readCsvFile(fx('reordered-crlf.csv'));
  t.same(table.header, ['password', 'domain', 'user']);
  t.same(table.rows, [
    { line: 2, cells: ['se,cret', 'example.com', 'alice'] },
    { line: 3, cells: ['say "hi"', '', 'bob'] },
    { line: 4, cells: ['two\r\nlines', '', 'carol'] },
  ]);
  const dir = createUserDirectory({ csv: fx('reordered-crlf.csv') });
  const ids = csvIdentities(fx('reordered-crlf.csv'));
  for (const [i, [user, password]] of [['alice', 'se,cret'], ['bob', 'say "hi"'], ['carol', 'two\r\nlines']].entries()) {
    t.equal(dir.password(user!), password, `serve: ${user}'s password`);
    t.equal(ids.get(i + 1).user, user, `run: identity ${i + 1}`);
    t.equal(ids.get(i + 1).password, password, `run: ${user}'s password`);
  }
  t.equal(ids.get(1).domain, 'example.com');
  t.equal(ids.get(2).domain, undefined, 'an empty domain is none');
});

t.test("LF, comments, blank lines, spaces around unquoted fields, ';' inside a field, no final newline", async (t) => {
  const table = readCsvFile(fx('lf-comments.csv'));
  t.same(table.headerLine, 2);
  t.same(table.rows, [
    { line: 4, cells: ['user1', 'pa;ss'] },
    { line: 5, cells: ['user2', ' spaced '] },
    { line: 7, cells: ['user3', 'last-no-newline'] },
  ]);
  const dir = createUserDirectory({ csv: fx('lf-comments.csv') });
  t.equal(dir.password('user1'), 'pa;ss', "serve: ';' is part of the password");
  t.equal(dir.password('user2'), ' spaced ', 'serve: quotes keep spaces');
  t.equal(csvIdentities(fx('lf-comments.csv')).get(1).password, 'pa;ss', "run: ';' is part of the password");
});

t.test('UTF-8 with a BOM is read; other bytes are bad input at file:line:col for serve and run alike', async (t) => {
  t.same(readCsvFile(fx('utf8-bom.csv')).rows[0]!.cells, ['zoë', 'café']);
  t.equal(createUserDirectory({ csv: fx('utf8-bom.csv') }).password('zoë'), 'café');
  const message = 'test/fixtures/csv/latin1.csv:3:10: users CSV is not UTF-8 (byte 0xe9); save it as UTF-8';
  t.throws(() => createUserDirectory({ csv: fx('latin1.csv') }), { code: 'CSV_NOT_UTF8', message });
  t.throws(() => csvIdentities(fx('latin1.csv')), { code: 'CSV_NOT_UTF8', message });
  for (const bytes of [[0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xc0, 0xaf]]) {
    t.throws(() => parseCsv(Buffer.from([0x61, 0x0a, ...bytes]), 'x.csv'), { code: 'CSV_NOT_UTF8', message: /^x\.csv:2:1: / }, `ill-formed ${Buffer.from(bytes).toString('hex')}`);
  }
});

t.test('malformed files: one line naming the file, the line and the column', async (t) => {
  const cases: [string, string, string][] = [
    ['unclosed-quote.csv', 'CSV_BAD_QUOTE', 'test/fixtures/csv/unclosed-quote.csv:2:7: quoted field is never closed'],
    ['quote-in-field.csv', 'CSV_BAD_QUOTE', 'test/fixtures/csv/quote-in-field.csv:2:9: a quote inside an unquoted field (quote the whole field and double the quote: "a""b")'],
    ['junk-after-quote.csv', 'CSV_BAD_QUOTE', `test/fixtures/csv/junk-after-quote.csv:2:11: 'c' after a closing quote (a field is one quoted string; write "" for a quote inside)`],
    ['long-row.csv', 'CSV_BAD_ROW', 'test/fixtures/csv/long-row.csv:2: expected 2 columns, found 3'],
    ['duplicate-column.csv', 'CSV_BAD_HEADER', "test/fixtures/csv/duplicate-column.csv:1: column 'user' appears twice in the header"],
  ];
  for (const [file, code, message] of cases) {
    t.throws(() => createUserDirectory({ csv: fx(file) }), { code, message }, `serve: ${file}`);
    t.throws(() => csvIdentities(fx(file)), { code, message }, `run: ${file}`);
  }
  t.throws(() => createUserDirectory({ csv: 'test/fixtures/cli-bad/no-user-column.csv' }), { code: 'CSV_MISSING_COLUMN', message: "test/fixtures/cli-bad/no-user-column.csv:1: users CSV needs a 'user' column (found: name, password)" });
  t.throws(() => createUserDirectory({ csv: fx('missing.csv') }), { code: 'CSV_UNREADABLE', message: 'test/fixtures/csv/missing.csv: cannot read users CSV (ENOENT)' });
});
