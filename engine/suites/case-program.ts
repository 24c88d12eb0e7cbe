// A conformance case compiled into the scenario layer's program, as the UA
// core plays it (engine/ua/case-steps.ts): a send (torture bytes, a template,
// a resend) is a `raw` step, a `receive` a `recv` step (the request answered
// 200), a `final` an `await` step, a step's pause a `pause` step before it;
// the case's own options ride on each step (CaseStepOptions). The liveness
// OPTIONS after each case is a one-step program of the same kind.

import type { CaseStepOptions, CompiledRole, CompiledScenario, CompiledStep, Expectation } from '../scenario/index.js';
import { requestTemplate, type SuiteCase } from './load.js';

export interface CaseTiming {
  /** How long an answer a case needs is waited for. */
  answerMs: number;
  /** How long silence must last to count as "no answer" where no answer is acceptable. */
  silenceMs: number;
}

/** No scenario timeout of its own: a case ends by its steps' waits. */
const CASE_TIMEOUT_MS = 3_600_000;

export function caseProgram(c: SuiteCase, vars: Record<string, string>, timing: CaseTiming): CompiledScenario {
  const steps: CompiledStep[] = [];
  const names: string[] = [];
  c.steps.forEach((s, i) => {
    if (s.pauseMs > 0) steps.push({ kind: 'pause', pause: { type: 'fixed', ms: s.pauseMs }, metric: -1, line: 0, col: 0 });
    const o: CaseStepOptions = {
      bytes: s.bytes?.toString('latin1'), resend: s.resend, auth: s.auth, retransmitted: s.retransmitted, inapplicable: s.inapplicable,
      final: s.final, headers: s.headers, match: s.match, capture: s.capture, ...timing, where: c.steps.length > 1 ? `step ${i + 1}: ` : '',
    };
    const base = { metric: names.length, line: 0, col: 0, name: `${c.id} step ${i + 1}`, timeoutMs: timing.answerMs };
    names.push(base.name);
    if (s.receive !== undefined) {
      steps.push({ kind: 'recv', ...base, method: s.receive.toUpperCase(), expect: s.expect, reply: [200], replyHeaders: [], optional: false, capture: [], rrs: false, case: o });
    } else if (s.final !== undefined) {
      steps.push({ kind: 'await', ...base, asyncId: s.final, expect: s.expect, case: o });
    } else {
      steps.push({ kind: 'raw', ...base, text: s.template ?? [], expect: s.expect, optional: false, wait: true, case: o });
    }
  });
  return program(c.id, steps, names, vars);
}

const OPTIONS_TEMPLATE = requestTemplate(
  'OPTIONS sip:${target.host}:${target.port} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\n' +
  'From: <sip:sipstorm@${local}>;tag=${tag}\nTo: <sip:${target.host}:${target.port}>\nCall-ID: ${call.id}\nCSeq: 1 OPTIONS\nContent-Length: 0\n');

const ANY_FINAL: Expectation = { text: 'a final answer', codes: [[200, 699]], headers: [] };

/** An OPTIONS the server must answer within `answerMs`: is it still there? */
export function livenessProgram(vars: Record<string, string>, answerMs: number): CompiledScenario {
  const o: CaseStepOptions = { headers: [], match: [], capture: [], answerMs, silenceMs: answerMs, where: '' };
  const step: CompiledStep = { kind: 'raw', metric: 0, line: 0, col: 0, name: 'OPTIONS', text: OPTIONS_TEMPLATE, expect: ANY_FINAL, timeoutMs: answerMs, optional: false, wait: true, case: o };
  return program('liveness', [step], ['OPTIONS'], vars);
}

function program(name: string, steps: CompiledStep[], metricNames: string[], vars: Record<string, string>): CompiledScenario {
  const role: CompiledRole = {
    name: 'cases', users: { first: 0, user: vars.user!, password: vars.password! }, load: { model: 'closed', total: 1 },
    steps, metricNames, loopSlots: 0, variables: [], recvAhead: steps.map(() => []),
  };
  return { file: name, name, timeoutMs: CASE_TIMEOUT_MS, roles: [role], thresholds: [], vars, autoAnswer: false };
}
