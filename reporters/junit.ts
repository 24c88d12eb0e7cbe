// JUnit XML as Jenkins, GitLab and GitHub test-report actions read it
// (schemas/junit.xsd, the structure of Jenkins' junit-10.xsd): a testcase per
// item of the verdict (engine/metrics/verdict.ts) — a conformance case, a
// step of a role, a role's instances, a catalog check, a threshold, and the
// run itself —, so that its counts are the verdict's and the console's. Not
// applicable, not run and never reached are <skipped message="why">; a
// failure says the RFC section, what was expected and what came. classname
// is stable across machines (sipstorm.conform.torture,
// sipstorm.run.register-auth.main), never a file path. XML escaping covers
// any bytes a server sends back (characters XML 1.0 forbids are dropped).

import type { RunResult } from '../engine/metrics/result.js';
import { verdictOf, type VerdictItem } from '../engine/metrics/verdict.js';
import { writeFileAtomic } from './write-file.js';

export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A classname segment: letters, digits, `_` and `-` (a dot would be read as a package separator). */
function segment(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_') || '_';
}

/** The testsuite (and classname) an item belongs to, e.g. sipstorm.conform.torture, sipstorm.run.register-auth.main. */
export function junitClassname(kind: RunResult['kind'], item: Pick<VerdictItem, 'group' | 'scenario' | 'role'>): string {
  const root = `sipstorm.${kind ?? 'run'}`;
  if (item.role !== undefined) return `${root}.${segment(item.scenario!)}.${segment(item.role)}`;
  return `${root}.${segment(item.scenario ?? item.group)}`;
}

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

export function renderJunit(r: RunResult): string {
  const { items } = verdictOf(r);
  const suites = new Map<string, VerdictItem[]>();
  for (const i of items) {
    const name = junitClassname(r.kind, i);
    suites.set(name, [...(suites.get(name) ?? []), i]);
  }
  const stamp = (iso: string) => iso.replace(/\.\d+Z$/, '').replace(/Z$/, '');
  let tests = 0;
  let failures = 0;
  const body: string[] = [];
  for (const [name, list] of suites) {
    const f = list.filter((i) => i.outcome === 'failed').length;
    const sk = list.filter((i) => i.outcome === 'skipped').length;
    tests += list.length;
    failures += f;
    // A suite of cases or steps took its scenario's wall time; checks, thresholds and the run item took none of their own.
    const first = list[0]!;
    const scenario = first.scenario !== undefined ? r.scenarios.find((s) => s.name === first.scenario) : undefined;
    const time = scenario ? scenario.durationMs : first.kind === 'run' ? r.durationMs : 0;
    const startedAt = scenario?.startedAt ?? r.startedAt;
    body.push(
      `  <testsuite name="${xmlEscape(name)}" tests="${list.length}" failures="${f}" errors="0" skipped="${sk}" time="${seconds(time)}" timestamp="${xmlEscape(stamp(startedAt))}">\n` +
        list.map((i) => renderCase(name, i)).join('') +
        `  </testsuite>\n`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="sipstorm ${r.kind ?? 'run'}" tests="${tests}" failures="${failures}" errors="0" time="${seconds(r.durationMs)}">\n${body.join('')}</testsuites>\n`;
}

function renderCase(classname: string, i: VerdictItem): string {
  const head = `    <testcase name="${xmlEscape(i.name)}" classname="${xmlEscape(classname)}" time="${seconds(i.timeMs)}"`;
  if (i.outcome === 'passed') return `${head}/>\n`;
  if (i.outcome === 'skipped') return `${head}>\n      <skipped message="${xmlEscape(i.message ?? '')}"/>\n    </testcase>\n`;
  return `${head}>\n      <failure message="${xmlEscape(i.message ?? '')}" type="${xmlEscape(i.type ?? 'failure')}">${xmlEscape(i.detail ?? i.message ?? '')}</failure>\n    </testcase>\n`;
}

export function writeJunit(path: string, r: RunResult): void {
  writeFileAtomic(path, renderJunit(r));
}
