// Templates in URIs, headers and bodies: '${name}' references, compiled once
// into literal and variable parts (like SIPp's precompiled messages) so that
// rendering for each UA is a join, not a parse.

export type TemplatePart = string | { v: string };
export type Template = TemplatePart[];

const REF = /\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}/g;

export function compileTemplate(text: string): Template {
  const parts: Template = [];
  let last = 0;
  for (const m of text.matchAll(REF)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    parts.push({ v: m[1]! });
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

export function templateVars(t: Template): string[] {
  return t.filter((p): p is { v: string } => typeof p !== 'string').map((p) => p.v);
}

/** Where a template's names get their values: an object with a method, so that 100,000 UAs need no closure each. */
export interface TemplateVars {
  lookup(name: string): string | undefined;
}

/**
 * Renders with a lookup; unknown names render as empty (the compiler rejects them up front).
 * `escape` transforms each value filled in (escapeRegex for a regular expression), never the literal parts.
 */
export function renderTemplate(t: Template, vars: TemplateVars, escape?: (value: string) => string): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0];
  let out = '';
  for (const p of t) {
    if (typeof p === 'string') out += p;
    else {
      const v = vars.lookup(p.v) ?? '';
      out += escape ? escape(v) : v;
    }
  }
  return out;
}

/** A value made to match itself, literally, inside a regular expression (only syntax characters: valid with the u flag too). */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
