// NTLMv2 against the worked example of [MS-NLMP] §4.2.4 (user "User", domain
// "Domain", password "Password", server challenge 0123456789abcdef, client
// challenge aa*8, time 0, random session key 55*16): the CHALLENGE and
// AUTHENTICATE bytes, the keys, and the signature of §4.2.4.4; then a
// connectionless client/server exchange as MS-SIPAE runs it.

import t from 'tap';
import {
  buildAuthenticate, buildChallenge, datagramSealState, DATAGRAM_FLAGS, Flag, mac, ntowfv2, ntHash, ntlmv2Response,
  parseAuthenticate, parseChallenge, respondToChallenge, sessionKeys, verifyAuthenticate, buildTargetInfo, AvId,
} from '../../engine/auth/ntlm/ntlm.js';
import { Rc4, rc4 } from '../../engine/auth/ntlm/rc4.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// §4.2.4.3 CHALLENGE_MESSAGE and AUTHENTICATE_MESSAGE, byte for byte.
const SPEC_CHALLENGE = hex(`4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef
  00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00
  610069006e0001000c0053006500720076006500720000000000`);
const SPEC_AUTHENTICATE = hex(`4e544c4d5353500003000000180018006c00000054005400840000000c000c00
  480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d006100
  69006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa
  aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000
  02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc97990
  94ce1ce90bc9d03e`);

t.test('§4.2.4.1: NTOWFv2 and the NT hash', async (t) => {
  t.equal(ntHash('Password').toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
  t.equal(ntowfv2('User', 'Domain', 'Password').toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
  t.equal(ntowfv2('user', 'Domain', 'Password').toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f', 'the user name is upper-cased');
  t.not(ntowfv2('User', 'domain', 'Password').toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f', 'the domain keeps its case');
});

t.test('§4.2.4.3: the CHALLENGE message parses and rebuilds byte for byte', async (t) => {
  const c = parseChallenge(SPEC_CHALLENGE);
  t.equal(c.flags, 0xe28a8233);
  t.equal(c.serverChallenge.toString('hex'), '0123456789abcdef');
  t.equal(c.targetName, 'Server');
  t.same(c.targetInfo, buildTargetInfo([[AvId.NB_DOMAIN, Buffer.from('Domain', 'utf16le')], [AvId.NB_COMPUTER, Buffer.from('Server', 'utf16le')]]));
  t.same(buildChallenge(c), SPEC_CHALLENGE);
});

t.test('§4.2.4.2: LMv2, NTLMv2 responses and the session base key', async (t) => {
  const c = parseChallenge(SPEC_CHALLENGE);
  const r = ntlmv2Response({
    user: 'User', domain: 'Domain', password: 'Password', serverChallenge: c.serverChallenge,
    clientChallenge: Buffer.alloc(8, 0xaa), time: Buffer.alloc(8), targetInfo: c.targetInfo,
  });
  t.equal(r.lmResponse.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  t.equal(r.ntResponse.subarray(0, 16).toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c', 'NTProofStr');
  t.equal(r.sessionBaseKey.toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3');
  t.equal(rc4(r.sessionBaseKey, Buffer.alloc(16, 0x55)).toString('hex'), 'c5dad2544fc9799094ce1ce90bc9d03e', 'EncryptedRandomSessionKey');

  const built = buildAuthenticate({
    flags: 0xe2888235, lmResponse: r.lmResponse, ntResponse: r.ntResponse, domain: 'Domain', user: 'User',
    workstation: 'COMPUTER', encryptedRandomSessionKey: rc4(r.sessionBaseKey, Buffer.alloc(16, 0x55)), version: hex('0501280a0000000f'),
  });
  t.same(built, SPEC_AUTHENTICATE, 'AUTHENTICATE byte for byte');
  const parsed = parseAuthenticate(SPEC_AUTHENTICATE);
  t.equal(parsed.user, 'User'); t.equal(parsed.domain, 'Domain'); t.equal(parsed.workstation, 'COMPUTER');
});

t.test('§4.2.4.4: signing and sealing keys, and the signature of the sealed "Plaintext"', async (t) => {
  const k = sessionKeys(Buffer.alloc(16, 0x55));
  t.equal(k.clientSeal.toString('hex'), '59f600973cc4960a25480a7c196e4c58');
  t.equal(k.clientSign.toString('hex'), '4788dc861b4782f35d43fd98fe1a2d39');
  // Connection-oriented: one RC4 state seals the message, then the checksum.
  const handle = new Rc4(k.clientSeal);
  const plaintext = Buffer.from('Plaintext', 'utf16le');
  t.equal(handle.update(plaintext).toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f', 'sealed data');
  t.equal(mac(k.clientSign, handle, 0, plaintext).toString('hex'), '010000007fb38ec5c55d497600000000', 'signature');
});

t.test('a connectionless exchange: the server verifies the client, each verifies the other\'s signatures', async (t) => {
  const serverChallenge = Buffer.from('0011223344556677', 'hex');
  const challenge = parseChallenge(buildChallenge({
    flags: DATAGRAM_FLAGS, serverChallenge, targetName: 'sipstorm',
    targetInfo: buildTargetInfo([[AvId.NB_COMPUTER, Buffer.from('SIPSTORM', 'utf16le')]]),
  }));
  const client = respondToChallenge(challenge, 'alice', 'SIPSTORM', 's3cret', 'UA1', Date.UTC(2026, 11, 7));
  const auth = parseAuthenticate(client.message);
  t.ok(auth.flags & Flag.DATAGRAM, 'connectionless');
  const server = verifyAuthenticate(auth, serverChallenge, (u) => (u === 'alice' ? 's3cret' : undefined));
  t.equal(server.user, 'alice');

  const text = Buffer.from('<NTLM><a1b2c3d4><1><SIP Communications Service><sipstorm><call-1><1><REGISTER>');
  const sig = client.session.sign(1, text);
  t.ok(server.session.verify(1, text, sig), 'the server accepts the client\'s signature');
  t.notOk(server.session.verify(2, text, sig), 'not under another sequence number');
  const tampered = Buffer.from(text); tampered[10] ^= 1;
  t.notOk(server.session.verify(1, tampered, sig), 'not over other bytes');
  const back = server.session.sign(7, text);
  t.ok(client.session.verify(7, text, back), 'the client accepts the server\'s signature');
  t.notOk(client.session.verify(7, text, sig), 'a client signature is no server signature');

  t.throws(() => verifyAuthenticate(auth, serverChallenge, () => 'wrong'), { code: 'NTLM_BAD_RESPONSE' });
  t.throws(() => verifyAuthenticate(auth, serverChallenge, () => undefined), { code: 'NTLM_UNKNOWN_USER' });
  t.throws(() => verifyAuthenticate(auth, Buffer.alloc(8), () => 's3cret'), { code: 'NTLM_BAD_RESPONSE' }, 'another challenge');
  t.equal(datagramSealState(Buffer.alloc(16), 0).update(Buffer.alloc(4)).length, 4);
});

t.test('malformed messages are NTLM_MALFORMED errors, never crashes', async (t) => {
  t.throws(() => parseChallenge(Buffer.from('hello')), { code: 'NTLM_MALFORMED' });
  t.throws(() => parseChallenge(SPEC_AUTHENTICATE), { code: 'NTLM_MALFORMED' }, 'wrong type');
  const bad = Buffer.from(SPEC_CHALLENGE); bad.writeUInt32LE(0xffff, 44);
  t.throws(() => parseChallenge(bad), { code: 'NTLM_MALFORMED' }, 'a field past the end');
  t.throws(() => parseAuthenticate(SPEC_AUTHENTICATE.subarray(0, 40)), { code: 'NTLM_MALFORMED' });
  for (let n = 0; n < SPEC_AUTHENTICATE.length; n += 7) {
    try { parseAuthenticate(SPEC_AUTHENTICATE.subarray(0, n)); } catch (e) { t.equal((e as { code?: string }).code, 'NTLM_MALFORMED', `cut at ${n}`); }
  }
});
