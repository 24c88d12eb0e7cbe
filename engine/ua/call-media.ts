// The audio of a call (docs/media.md), between the step outcomes and the UAC:
// an INVITE of a role with `media` opens the call's stream (a port pair of
// its own) and carries its SDP offer (RFC 3264 §5); the 2xx's answer starts
// it (§6.1: the remote address and codec taken from it) or fails the step
// with the reason; a re-INVITE offers again (its `direction`: hold, §8.4); BYE, sent
// or received, or the end of the instance stops it, and what it measured
// goes to the metrics of the INVITE step that set it up. A recv INVITE step
// of a role with media answers the offer from a stream of its own (§6), or
// 488 when no codec fits. The dtmf step plays
// RFC 4733 events on it.

import type { SipMessage } from '../codec/index.js';
import type { Direction, MediaStream } from '../media/index.js';
import { MediaError } from '../media/errors.js';
import { SipstormError } from '../errors.js';
import type { CompiledScenario } from '../scenario/index.js';
import type { DtmfStep, RecvStep, SendStep } from '../scenario/index.js';
import { MediaMetrics } from '../metrics/index.js';
import { StepOutcomes } from './step-outcome.js';

/**
 * engine/media's streams and SDP, loaded by loadCallMedia only in a thread whose scenario has media. Module state on
 * purpose: each worker thread loads its own.
 */
let media: typeof import('../media/index.js') | undefined;

/** Loads the call's audio when a role of `scenario` has `media` (WorkerRuntime.create, before any UA). */
export async function loadCallMedia(scenario: CompiledScenario): Promise<void> {
  if (scenario.roles.some((r) => r.media !== undefined)) media ??= await import('../media/index.js');
}

function mediaLib(): typeof import('../media/index.js') {
  if (!media) throw new SipstormError('MEDIA_NOT_LOADED', 'a call with media in a runtime made without loadCallMedia (a sipstorm bug)');
  return media;
}

export abstract class MediaSide extends StepOutcomes {
  /** The call's stream, once opened; with the metric slot of the step that set it up. */
  protected media: { stream: MediaStream; metric: number; answeredSeq: number; offered: Direction } | undefined;

  /** Does this INVITE carry the role's media offer (a role with `media`, a step without a body of its own)? */
  protected offersMedia(step: SendStep): boolean {
    return step.method === 'INVITE' && this.role.role.media !== undefined && step.body === undefined;
  }

  /**
   * Opens the stream before the first INVITE that offers it (binding its ports takes a turn of the event loop),
   * then sends that INVITE. Returns false when the stream is already open: send now.
   */
  protected openMediaFirst(step: SendStep, send: () => void): boolean {
    if (this.media || !this.offersMedia(step)) return false;
    const gen = this.gen;
    mediaLib().MediaStream.open(this.rt.media, this.role.role.media!, this.rt.mediaHost).then(
      (stream) => {
        if (this.done || gen !== this.gen) {
          stream.close();
          return;
        }
        this.media = { stream, metric: step.metric, answeredSeq: -1, offered: stream.settings.direction };
        send();
      },
      (err: unknown) => {
        if (this.done || gen !== this.gen) return;
        (this.metrics(step).media ??= new MediaMetrics()).setupFailed();
        const why = err instanceof MediaError ? err.message : `${(err as NodeJS.ErrnoException).code ?? 'ERROR'}: ${(err as Error).message}`;
        this.stepFailed(step, 'media: no RTP port', `media: ${why}`, 'media: no RTP port');
      },
    );
    return true;
  }

  /** The SDP offer an INVITE of the call carries (a new version each time). */
  protected mediaOffer(step: SendStep): string | undefined {
    const m = this.media;
    if (!m || !this.offersMedia(step)) return undefined;
    // RFC 3264 §8.4: hold is a new offer with sendonly (or inactive); the step's direction, or the setting's.
    m.offered = step.direction ?? m.stream.settings.direction;
    return m.stream.offer(m.offered);
  }

  /**
   * A 2xx to an INVITE that offered: its answer starts (or, after a re-INVITE, changes) the stream. Returns the
   * reason when the answer is unusable (no SDP, no acceptable codec), undefined when the stream runs.
   */
  protected mediaAnswer(req: SipMessage, res: SipMessage): string | undefined {
    const m = this.media;
    if (!m || req.body.length === 0 || !/application\/sdp/i.test(req.get('Content-Type') ?? '')) return undefined;
    const seq = res.cseq().seq;
    if (m.answeredSeq === seq) return undefined; // a retransmitted 2xx
    m.answeredSeq = seq;
    if (res.body.length === 0) return 'the 2xx has no SDP answer to the offer (RFC 3264 §5)';
    try {
      m.stream.start(mediaLib().negotiate(mediaLib().parseSdp(res.body.toString('utf8')), m.stream.settings.codecs, m.offered));
      return undefined;
    } catch (err) {
      if (!(err instanceof MediaError)) throw err;
      return err.message;
    }
  }

  /** Stops the stream (BYE sent or received, the instance's end) and records what it measured, once. */
  protected stopMedia(): void {
    const m = this.media;
    if (!m) return;
    this.media = undefined;
    const stats = m.stream.close();
    const metrics = this.role.metrics.steps[m.metric]!;
    (metrics.media ??= new MediaMetrics()).add(stats);
  }

  /** An answer without a usable stream: counted on the step's media, and the step fails with why. */
  protected mediaSetupFailed(step: SendStep, why: string): void {
    (this.metrics(step).media ??= new MediaMetrics()).setupFailed();
    // No stream ran: closed without being counted among the streams.
    this.media?.stream.close();
    this.media = undefined;
    const kind = why.startsWith('no acceptable codec') ? 'media: no acceptable codec' : why.startsWith('the 2xx has no SDP') ? 'media: no SDP answer' : 'media: unusable SDP answer';
    this.stepFailed(step, kind, `media: ${why}`, kind);
  }

  /** The SDP answer of a 2xx being sent (the UAS side), while its replies are made. */
  protected answerBody: string | undefined;

  /** A recv INVITE step of a role with media, whose request carries an offer: opens the stream first. False: go on now. */
  protected openMediaForOffer(step: RecvStep, req: SipMessage, then: () => void): boolean {
    if (this.media || step.method !== 'INVITE' || !this.role.role.media || step.replyBody !== undefined || req.body.length === 0) return false;
    const gen = this.gen;
    mediaLib().MediaStream.open(this.rt.media, this.role.role.media, this.rt.mediaHost).then(
      (stream) => {
        if (this.done || gen !== this.gen) return void stream.close();
        this.media = { stream, metric: step.metric, answeredSeq: -1, offered: stream.settings.direction };
        then();
      },
      (err: unknown) => {
        if (this.done || gen !== this.gen) return;
        (this.metrics(step).media ??= new MediaMetrics()).setupFailed();
        this.stepFailed(step, 'media: no RTP port', `media: ${(err as Error).message}`, 'media: no RTP port');
      },
    );
    return true;
  }

  /** The answer to an INVITE's offer (RFC 3264 §6) from the call's stream, which starts with it; or why not. */
  protected mediaAnswerTo(step: RecvStep, req: SipMessage): { sdp: string } | { error: string } | undefined {
    const m = this.media;
    if (!m || step.method !== 'INVITE' || step.replyBody !== undefined || !step.reply.some((c) => c >= 200 && c < 300)) return undefined;
    try {
      const { sdp, negotiated } = mediaLib().answerOffer(mediaLib().parseSdp(req.body.toString('utf8')), m.stream.local());
      m.stream.start(negotiated);
      return { sdp };
    } catch (err) {
      if (!(err instanceof MediaError)) throw err;
      return { error: err.message };
    }
  }

  /** An offer this side cannot answer: 488 was sent; counted apart and the step fails with why. */
  protected mediaRefused(step: RecvStep, why: string): void {
    (this.metrics(step).media ??= new MediaMetrics()).setupFailed();
    this.media?.stream.close();
    this.media = undefined;
    const kind = why.startsWith('no acceptable codec') ? 'media: no acceptable codec' : 'media: unusable SDP offer';
    this.stepFailed(step, kind, `media: ${why}`, kind);
  }

  /** A dtmf step: the digits as RFC 4733 events on the stream; passes when the last one ended. */
  protected doDtmf(step: DtmfStep): void {
    const m = this.metrics(step);
    const stream = this.media?.stream;
    if (!stream) return this.stepFailed(step, 'no media stream', 'no media stream is up (no INVITE answered with SDP before this step)', 'no media stream');
    const gen = this.gen;
    try {
      stream.playDtmf(step.digits, () => {
        if (gen === this.gen && !this.done) this.passed(m);
      });
    } catch (err) {
      if (!(err instanceof MediaError)) throw err;
      return this.stepFailed(step, err.code, err.message, err.code);
    }
    this.armStepTimeout(step, () => this.stepFailed(step, 'dtmf not sent in time', `digits '${step.digits}' not sent within ${step.timeoutMs / 1000}s`, 'dtmf not sent in time'));
  }
}
