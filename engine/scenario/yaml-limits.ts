// YAML aliases that expand into more than a scenario could ever hold (the
// "billion laughs" alias bomb): the yaml library stops expanding past
// maxAliasCount and throws without a position; this names the file, line and
// column of the alias where nesting begins, so the message is like any other
// scenario error (exit 2).

import { isAlias, isCollection, visit, type Document, type LineCounter, type Node } from 'yaml';
import { ScenarioError } from './errors.js';

/** The yaml library's default: far above what a hand-written scenario uses. */
export const MAX_ALIAS_COUNT = 100;

function containsAlias(node: unknown): boolean {
  if (!isCollection(node)) return false;
  let found = false;
  visit(node, {
    Alias() {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

/** The error to report for an exception out of `doc.toJS()`. */
export function aliasBombError(err: unknown, doc: Document, lc: LineCounter, file: string): ScenarioError {
  let first: Node | undefined;
  let nested: Node | undefined;
  visit(doc, {
    Alias(_key, alias) {
      first ??= alias;
      if (isAlias(alias) && containsAlias(alias.resolve(doc))) {
        nested = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const at = (nested ?? first)?.range?.[0];
  const p = at !== undefined ? lc.linePos(at) : { line: 1, col: 1 };
  const bomb = /alias/i.test((err as Error)?.message ?? '');
  const reason = bomb
    ? `not valid YAML: its aliases expand to more than ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out or use fewer nested aliases`
    : `not valid YAML: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
  return new ScenarioError('SCENARIO_YAML', file, p.line, p.col, reason);
}
