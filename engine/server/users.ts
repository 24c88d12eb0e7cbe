// The accounts the embedded server knows: a pattern pair such as user{n} /
// secret{n} (any n >= 1, so 100,000 accounts cost no memory) or a CSV file
// whose header names the columns (user or username, password; others are
// ignored), read by the CSV reader `run` uses too (engine/data/csv.ts).

import { readCsvFile, CsvError } from '../data/csv.js';

export type UserSource = { user: string; password: string } | { csv: string };

export interface UserDirectory {
  /** The password of a user, or undefined when the user does not exist. */
  password(user: string): string | undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createUserDirectory(source: UserSource): UserDirectory {
  if ('csv' in source) {
    const file = source.csv;
    const { header, headerLine, rows } = readCsvFile(file, 'users CSV');
    const userCol = header.findIndex((h) => h === 'user' || h === 'username');
    if (userCol < 0) throw new CsvError('CSV_MISSING_COLUMN', `${file}:${headerLine}: users CSV needs a 'user' column (found: ${header.join(', ')})`);
    const passCol = header.indexOf('password');
    if (passCol < 0) throw new CsvError('CSV_MISSING_COLUMN', `${file}:${headerLine}: users CSV needs a 'password' column (found: ${header.join(', ')})`);
    const users = new Map<string, string>();
    for (const r of rows) {
      const user = r.cells[userCol]!;
      if (user === '') throw new CsvError('CSV_BAD_ROW', `${file}:${r.line}: empty user`);
      if (users.has(user)) throw new CsvError('CSV_BAD_ROW', `${file}:${r.line}: user '${user}' appears twice`);
      users.set(user, r.cells[passCol]!);
    }
    return { password: (u) => users.get(u) };
  }
  // user{n} -> ^user(\d+)$ ; the password pattern is expanded with the same n.
  const parts = source.user.split('{n}');
  if (parts.length !== 2) {
    return { password: (u) => (u === source.user ? source.password : undefined) };
  }
  const re = new RegExp(`^${escapeRegExp(parts[0]!)}([1-9]\\d{0,8})${escapeRegExp(parts[1]!)}$`);
  return {
    password(u) {
      const m = re.exec(u);
      return m ? source.password.split('{n}').join(m[1]!) : undefined;
    },
  };
}
