// RFC 3903 §4 composition by the embedded server: the NOTIFY carries every
// tuple, note and extension element of each live publication of the
// presentity, byte for byte, in one well-formed PIDF document (xmllint reads
// it); a modify replaces one publication's part, a removal or an expiry takes
// it out, and the watcher is told each time.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { buildAuthorization, pickChallenge } from '../../engine/auth/index.js';
import { createResponse, type SipMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';
import { TestClient } from '../support/udp-client.js';

const DESK = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:user6@127.0.0.1">
  <tuple id="desk"><status><basic>open</basic></status><contact priority="0.8">sip:user6@desk.example.com</contact><note xml:lang="en">At my desk &amp; busy</note></tuple>
  <note>Top-level note</note>
</presence>`;
// Another client, another style: the PIDF namespace under a prefix, and an extension element of the data model.
const MOBILE = `<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:user6@127.0.0.1"><p:tuple id="mobile"><p:status><p:basic>closed</p:basic></p:status></p:tuple><dm:person id="me"><dm:note>On the road</dm:note></dm:person></p:presence>`;

/** xmllint's complaints about the document ('' when well-formed); without xmllint, '' except in CI, where it must be there. */
function wellFormed(xml: string): string {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
  if (r.error) return process.env.CI === 'true' ? `xmllint: ${r.error.message} (apt-get install libxml2-utils)` : '';
  return r.status === 0 ? '' : r.stderr;
}

t.test('the NOTIFY composes every live publication, and follows modify, removal and expiry', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  const port = server.endpoints[0]!.port;
  const presentity = `sip:user6@127.0.0.1:${port}`;
  let cseq = 0;
  const byCseq = (req: SipMessage) => (m: SipMessage) => !m.isRequest && m.status >= 200 && m.callId() === req.callId() && m.cseq().seq === req.cseq().seq;
  /** Sends a request as `user`, answering the challenge. */
  const authed = async (method: string, user: string, headers: [string, string][], body?: string, contentType?: string) => {
    const first = client.request(method, presentity, { user, cseq: ++cseq, headers, body, contentType });
    client.send(first);
    const ch = await client.wait(byCseq(first));
    const again = client.request(method, presentity, { user, callId: first.callId(), cseq: ++cseq, fromTag: first.from().tag, headers, body, contentType });
    again.add('Authorization', buildAuthorization(pickChallenge(ch.getAll('WWW-Authenticate'))!, { method, uri: presentity }, { username: user, password: user.replace('user', 'secret') }, { nc: 0 }));
    client.send(again);
    return client.wait(byCseq(again));
  };
  const publish = (body: string | undefined, headers: [string, string][] = []) =>
    authed('PUBLISH', 'user6', [['Event', 'presence'], ...(headers.some(([n]) => n === 'Expires') ? [] : [['Expires', '600'] as [string, string]]), ...headers], body, body ? 'application/pidf+xml' : undefined);
  const nextNotify = async () => {
    const n = await client.wait((m) => m.isRequest && m.method === 'NOTIFY', 5000);
    client.send(createResponse(n, 200));
    return n.body.toString('utf8');
  };

  const desk = await publish(DESK);
  t.equal(desk.status, 200);
  const mobile = await publish(MOBILE);
  t.equal(mobile.status, 200);
  t.not(mobile.get('SIP-ETag'), desk.get('SIP-ETag'), 'a PUBLISH without SIP-If-Match is a publication of its own');

  t.equal((await authed('SUBSCRIBE', 'user1', [['Event', 'presence'], ['Expires', '600']])).status, 200);
  const both = await nextNotify();
  t.equal(wellFormed(both), '', 'one well-formed XML document');
  t.match(both, /^<\?xml version="1\.0" encoding="UTF-8"\?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" [^>]*entity="sip:user6@127\.0\.0\.1">/);
  t.ok(both.includes('<tuple id="desk"><status><basic>open</basic></status><contact priority="0.8">sip:user6@desk.example.com</contact><note xml:lang="en">At my desk &amp; busy</note></tuple>'), 'the first tuple, with its contact and note, byte for byte');
  t.ok(both.includes('<note>Top-level note</note>'), 'the top-level note');
  t.ok(both.includes('<p:tuple id="mobile"><p:status><p:basic>closed</p:basic></p:status></p:tuple>'), 'the tuple of the second publication');
  t.ok(both.includes('<dm:person id="me"><dm:note>On the road</dm:note></dm:person>'), 'its extension element');
  t.match(both, /xmlns:p="urn:ietf:params:xml:ns:pidf"/, 'the prefixes they use are declared');
  t.ok(both.indexOf('id="desk"') < both.indexOf('id="mobile"'), 'publications in the order they were made');
  t.notMatch(both, /id="t1"/, 'no document of the server\'s own making');

  const modified = await publish(DESK.replace('At my desk &amp; busy', 'In a meeting'), [['SIP-If-Match', desk.get('SIP-ETag')!]]);
  t.equal(modified.status, 200);
  const afterModify = await nextNotify();
  t.match(afterModify, /<note xml:lang="en">In a meeting<\/note>/, 'a modify replaces that publication\'s part');
  t.notMatch(afterModify, /At my desk/);
  t.match(afterModify, /id="mobile"/, 'and leaves the other one');

  t.equal((await publish(undefined, [['SIP-If-Match', mobile.get('SIP-ETag')!], ['Expires', '0']])).status, 200);
  const afterRemove = await nextNotify();
  t.notMatch(afterRemove, /mobile|dm:person/, 'a removed publication leaves the document');
  t.match(afterRemove, /In a meeting/);

  t.equal((await publish(undefined, [['SIP-If-Match', modified.get('SIP-ETag')!], ['Expires', '1']])).status, 200, 'a refresh with a short expiry');
  t.equal(server.stats().notifiesSent, 3, 'a refresh changes no state: no NOTIFY');
  const afterExpiry = await nextNotify();
  t.match(afterExpiry, /<tuple id="t1"><status><basic>closed<\/basic><\/status><\/tuple>/, 'once it expires, nothing is published: closed');
});

t.test('a PUBLISH body that is neither PIDF nor states a status is refused 400', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  const uri = `sip:user7@127.0.0.1:${server.endpoints[0]!.port}`;
  const first = client.request('PUBLISH', uri, { user: 'user7', headers: [['Event', 'presence']], body: '<foo>bar</foo>', contentType: 'application/pidf+xml' });
  client.send(first);
  const ch = await client.wait((m) => !m.isRequest && m.cseq().seq === 1);
  const again = client.request('PUBLISH', uri, { user: 'user7', callId: first.callId(), cseq: 2, fromTag: first.from().tag, headers: [['Event', 'presence']], body: '<foo>bar</foo>', contentType: 'application/pidf+xml' });
  again.add('Authorization', buildAuthorization(pickChallenge(ch.getAll('WWW-Authenticate'))!, { method: 'PUBLISH', uri }, { username: 'user7', password: 'secret7' }, { nc: 0 }));
  client.send(again);
  const res = await client.wait((m) => !m.isRequest && m.cseq().seq === 2);
  t.equal(res.status, 400);
});
