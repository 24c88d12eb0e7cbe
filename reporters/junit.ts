// JUnit XML as GitLab, Jenkins and GitHub test-report actions read it: a
// testsuite per scenario, a testcase per step expectation and per threshold,
// classname = the scenario file, times in seconds, one failure element per
// failing case saying expected vs got with counts. XML escaping covers any
// bytes a server sends back (characters XML 1.0 forbids are dropped).

import type { RunResult } from '../engine/metrics/result.js';
import { partialNote } from './format.js';
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

interface Case {
  name: string;
  classname: string;
  time: number;
  failure?: { message: string; type: string; text: string };
}

export function renderJunit(r: RunResult): string {
  const suites: string[] = [];
  let totalTests = 0;
  let totalFailures = 0;
  for (const s of r.scenarios) {
    const cases: Case[] = [];
    for (const role of s.roles) {
      const prefix = s.roles.length > 1 || role.role !== 'main' ? `${role.role}: ` : '';
      role.steps.forEach((st, i) => {
        const failed = st.failed + st.timeouts + st.errors;
        const reasons = Object.entries(st.failures).sort((a, b) => b[1] - a[1]);
        const c: Case = { name: `${prefix}step ${i + 1} ${st.name}`, classname: s.file, time: (st.service.mean * Math.max(1, st.service.count)) / 1000 };
        if (failed > 0) {
          const parts = reasons.map(([why, n]) => `${n} × ${why}`);
          if (st.timeouts) parts.push(`${st.timeouts} × no final response (timeout)`);
          if (st.errors) parts.push(`${st.errors} × abandoned (the instance ended first)`);
          c.failure = {
            message: `${failed} of ${Math.max(st.sent, st.received)} failed: ${parts.join('; ')}`,
            type: st.timeouts ? 'timeout' : 'expectation',
            text: `step ${st.name}: sent ${st.sent}, received ${st.received}, codes ${JSON.stringify(st.codes)}\n${parts.join('\n')}`,
          };
        }
        cases.push(c);
      });
      if (role.failed > 0 && role.steps.every((st) => st.failed + st.timeouts + st.errors === 0)) {
        const reasons = Object.entries(role.failureReasons).map(([why, n]) => `${n} × ${why}`);
        cases.push({ name: `${prefix}instances`, classname: s.file, time: 0, failure: { message: `${role.failed} of ${role.started} instances failed: ${reasons.join('; ')}`, type: 'instance', text: reasons.join('\n') } });
      }
    }
    const failures = cases.filter((c) => c.failure).length;
    totalTests += cases.length;
    totalFailures += failures;
    suites.push(
      `  <testsuite name="${xmlEscape(s.name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${(s.durationMs / 1000).toFixed(3)}" timestamp="${s.startedAt.replace(/\.\d+Z$/, '')}">\n` +
        cases.map(renderCase).join('') +
        `  </testsuite>\n`,
    );
  }
  if (r.conformance.length) {
    const cases: Case[] = r.conformance.map((c) => ({
      name: `${c.id} (${c.rfc} §${c.section})`,
      classname: 'conformance',
      time: 0,
      failure:
        c.failed > 0 && c.severity === 'error'
          ? { message: `${c.rfc} §${c.section}: ${c.text} — ${c.failed} of ${c.passed + c.failed} failed; e.g. ${c.examples[0] ?? ''}`, type: 'conformance', text: c.examples.join('\n') }
          : undefined,
    }));
    const failures = cases.filter((c) => c.failure).length;
    totalTests += cases.length;
    totalFailures += failures;
    suites.push(`  <testsuite name="conformance" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="0">\n${cases.map(renderCase).join('')}  </testsuite>\n`);
  }
  if (r.thresholds.length) {
    const cases: Case[] = r.thresholds.map((th) => ({
      name: `threshold ${th.expr}`,
      classname: 'thresholds',
      time: 0,
      failure: th.ok ? undefined : { message: `${th.expr}: got ${th.value === null ? 'no data' : th.value}`, type: 'threshold', text: th.source ?? '' },
    }));
    const failures = cases.filter((c) => c.failure).length;
    totalTests += cases.length;
    totalFailures += failures;
    suites.push(`  <testsuite name="thresholds" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="0">\n${cases.map(renderCase).join('')}  </testsuite>\n`);
  }
  const partial = shardSuite(r);
  if (partial) {
    suites.push(partial.xml);
    totalTests += partial.tests;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="sipstorm" tests="${totalTests}" failures="${totalFailures}" errors="0" time="${(r.durationMs / 1000).toFixed(3)}">\n${suites.join('')}</testsuites>\n`;
}

/** A merge with --allow-partial: one skipped case per missing shard, so CI shows the result covers part of the run. */
function shardSuite(r: RunResult): { xml: string; tests: number } | undefined {
  const note = partialNote(r);
  if (!note || !r.shardSet) return undefined;
  const cases = r.shardSet.missing.map(
    (s) => `    <testcase name="shard ${xmlEscape(s)}" classname="shards" time="0">\n      <skipped message="${xmlEscape(`missing: ${note}`)}"/>\n    </testcase>\n`,
  );
  return { xml: `  <testsuite name="shards (partial)" tests="${cases.length}" failures="0" errors="0" skipped="${cases.length}" time="0">\n${cases.join('')}  </testsuite>\n`, tests: cases.length };
}

function renderCase(c: Case): string {
  const head = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="${c.time.toFixed(3)}"`;
  if (!c.failure) return `${head}/>\n`;
  return `${head}>\n      <failure message="${xmlEscape(c.failure.message)}" type="${xmlEscape(c.failure.type)}">${xmlEscape(c.failure.text)}</failure>\n    </testcase>\n`;
}

export function writeJunit(path: string, r: RunResult): void {
  writeFileAtomic(path, renderJunit(r));
}
