// Kerberos AES encryption against the published vectors: n-fold (RFC 3961
// appendix A.1), string-to-key (RFC 3962 appendix B) and AES-CTS (RFC 3962
// appendix B), then encrypt/decrypt and checksum round trips with a tampered byte.

import t from 'tap';
import {
  checksum, ctsDecrypt, ctsEncrypt, decrypt, encrypt, ENCTYPE_AES128, ENCTYPE_AES256, nfold, stringToKey, stringToKeyAsync,
} from '../../engine/auth/kerberos/crypto.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 3961 A.1 n-fold', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['012345', 64, 'be072631276b1955'],
    ['password', 56, '78a07b6caf85fa'],
    ['Rough Consensus, and Running Code', 64, 'bb6ed30870b7f0e0'],
    ['password', 168, '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    ['MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 192, 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    ['Q', 168, '518a54a215a8452a518a54a215a8452a518a54a215'],
    ['ba', 168, 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    ['kerberos', 64, '6b65726265726f73'],
    ['kerberos', 128, '6b65726265726f737b9b5b2b93132b93'],
  ];
  for (const [input, bits, out] of cases) t.equal(nfold(Buffer.from(input, 'latin1'), bits / 8).toString('hex'), out, `${bits}-fold(${input})`);
});

t.test('RFC 3962 appendix B string-to-key', async (t) => {
  const cases: Array<[number, string | Buffer, string, string]> = [
    [1, 'ATHENA.MIT.EDUraeburn', '42263c6e89f4fc28b8df68ee09799f15', 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'],
    [2, 'ATHENA.MIT.EDUraeburn', 'c651bf29e2300ac27fa469d693bdda13', 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff'],
    [1200, 'ATHENA.MIT.EDUraeburn', '4c01cd46d632d01e6dbe230a01ed642a', '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a'],
    [5, hex('1234567878563412'), 'e9b23d52273747dd5c35cb55be619d8e', '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31'],
  ];
  for (const [iterations, salt, k128, k256] of cases) {
    t.equal(stringToKey(ENCTYPE_AES128, 'password', salt, iterations).value.toString('hex'), k128, `aes128, ${iterations} iterations`);
    t.equal(stringToKey(ENCTYPE_AES256, 'password', salt, iterations).value.toString('hex'), k256, `aes256, ${iterations} iterations`);
    t.equal((await stringToKeyAsync(ENCTYPE_AES256, 'password', salt, iterations)).value.toString('hex'), k256, `aes256, ${iterations} iterations, off the event loop`);
  }
});

t.test('RFC 3962 appendix B AES-CTS (key "chicken teriyaki", IV zero)', async (t) => {
  const key = Buffer.from('chicken teriyaki', 'latin1');
  const input = Buffer.from("I would like the General Gau's Chicken, please, and wonton soup.", 'latin1');
  const vectors: Array<[number, string]> = [
    [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    [48, '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    [64, '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
  ];
  for (const [len, out] of vectors) {
    const plain = input.subarray(0, len);
    t.equal(ctsEncrypt(key, plain).toString('hex'), out, `encrypt ${len} bytes`);
    t.same(ctsDecrypt(key, hex(out)), plain, `decrypt ${len} bytes`);
  }
  t.equal(ctsEncrypt(key, input.subarray(0, 16)).toString('hex'), '97687268d6ecccc0c07b25e25ecfe584', 'one block is one block of AES');
});

t.test('encrypt/decrypt and checksum for both enctypes; a tampered byte is refused', async (t) => {
  for (const enctype of [ENCTYPE_AES128, ENCTYPE_AES256]) {
    const key = stringToKey(enctype, 'pw', 'EXAMPLE.ORGalice', 2);
    for (const len of [0, 1, 15, 16, 17, 100]) {
      const plain = Buffer.alloc(len, 7);
      const c = encrypt(key, 3, plain);
      t.equal(c.length, 16 + len + 12);
      t.same(decrypt(key, 3, c), plain, `enctype ${enctype}, ${len} bytes`);
      t.throws(() => decrypt(key, 4, c), { code: 'KRB_INTEGRITY' }, 'another key usage');
      const bad = Buffer.from(c); bad[bad.length - 13]! ^= 1;
      t.throws(() => decrypt(key, 3, bad), { code: 'KRB_INTEGRITY' }, 'tampered');
    }
    t.equal(checksum(key, 17, Buffer.from('abc')).length, 12);
    t.not(checksum(key, 17, Buffer.from('abc')).toString('hex'), checksum(key, 17, Buffer.from('abd')).toString('hex'));
  }
  t.throws(() => encrypt({ enctype: 23, value: Buffer.alloc(16) }, 1, Buffer.alloc(1)), { code: 'KRB_ENCTYPE_UNSUPPORTED' });
});
