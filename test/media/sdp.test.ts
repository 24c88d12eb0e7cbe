// SDP offer/answer (RFC 3264, RFC 4566): the offer sipstorm makes, answers
// read (codec chosen by the answer's order, remote address at media level
// over session level, hold directions), and the refusals with their reasons:
// no acceptable codec, a rejected stream, no audio.

import t from 'tap';
import { answerOffer, buildOffer, negotiate, parseSdp, SdpError } from '../../engine/media/index.js';

const local = { host: '127.0.0.1', port: 40000, rtcpPort: 40001, codecs: ['PCMU', 'PCMA'] as ('PCMU' | 'PCMA')[], direction: 'sendrecv' as const, sessionId: '7', version: 1 };

t.test('the offer', async (t) => {
  const sdp = buildOffer(local);
  t.match(sdp, /^v=0\r\n/);
  t.match(sdp, /\r\nm=audio 40000 RTP\/AVP 0 8 101\r\n/);
  t.match(sdp, /a=rtpmap:101 telephone-event\/8000/);
  t.match(sdp, /a=rtcp:40001\r\n/);
  const back = parseSdp(sdp);
  t.same(back.audio!.formats, [0, 8, 101]);
  t.equal(back.audio!.host, '127.0.0.1');
});

t.test('an answer: its first acceptable codec, media-level c= line, telephone-event, direction', async (t) => {
  const answer = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 18 8 0 96\r\nc=IN IP4 127.0.0.5\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n';
  const n = negotiate(parseSdp(answer), ['PCMU', 'PCMA'], 'sendrecv');
  t.equal(n.codec, 'PCMA', "the answer's order: 18 (G729) is not ours, 8 is");
  t.equal(n.payloadType, 8);
  t.equal(n.dtmfPayloadType, 96);
  t.equal(n.remoteHost, '127.0.0.5');
  t.equal(n.remotePort, 5004);
  t.equal(n.remoteRtcpPort, 5005, 'no a=rtcp: the port above');
  t.same([n.send, n.receive], [false, true], 'the peer only sends (hold from its side): we only receive');
});

t.test('no acceptable codec fails with the reason', async (t) => {
  const answer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\n';
  t.throws(() => negotiate(parseSdp(answer), ['PCMU', 'PCMA'], 'sendrecv'), {
    code: 'SDP_NO_CODEC', message: 'no acceptable codec: sipstorm offers PCMU, PCMA; the SDP has 18 (G729), 9',
  });
  t.throws(() => negotiate(parseSdp(answer.replace('5004', '0')), ['PCMU'], 'sendrecv'), { code: 'SDP_REJECTED' });
  t.throws(() => negotiate(parseSdp('v=0\r\nc=IN IP4 127.0.0.1\r\n'), ['PCMU'], 'sendrecv'), { code: 'SDP_NO_AUDIO' });
  t.throws(() => parseSdp('v=0\r\nthis is not sdp\r\n'), SdpError);
});

t.test('an answer to an offer keeps the offerer numbering and mirrors hold', async (t) => {
  const offer = parseSdp(buildOffer({ ...local, codecs: ['PCMA', 'PCMU'], direction: 'sendonly' }));
  const { sdp, negotiated } = answerOffer(offer, { ...local, port: 50000, rtcpPort: 50001, codecs: ['PCMU', 'PCMA'] });
  t.equal(negotiated.codec, 'PCMA', "the offerer's preference");
  t.match(sdp, /m=audio 50000 RTP\/AVP 8 101\r\n/);
  t.match(sdp, /a=recvonly\r\n/, 'sendonly offered: recvonly answered (RFC 3264 §6.1)');
  t.same([negotiated.send, negotiated.receive], [false, true]);
});
