// The accounts the embedded server knows: a pattern pair such as user{n} /
// secret{n} (any n >= 1, so 100,000 accounts cost no memory) or a CSV file of
// username,password[,domain].

import { readFileSync } from 'node:fs';
import { SipstormError } from '../errors.js';

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
    let text: string;
    try {
      text = readFileSync(source.csv, 'utf8');
    } catch (err) {
      throw new SipstormError('CSV_UNREADABLE', `${source.csv}: cannot read users CSV (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const users = new Map<string, string>();
    const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
    const first = lines[0]?.toLowerCase() ?? '';
    const start = first.startsWith('user') ? 1 : 0; // optional header line
    for (let i = start; i < lines.length; i++) {
      const cells = lines[i]!.split(/[,;]/).map((c) => c.trim());
      if (cells.length < 2 || !cells[0]) throw new SipstormError('CSV_BAD_ROW', `${source.csv}:${i + 1}: expected username,password`);
      users.set(cells[0], cells[1]!);
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
