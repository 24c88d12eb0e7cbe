// WAV files for media sources: RIFF/WAVE with a PCM fmt chunk, 8 kHz, mono,
// 16-bit little-endian, the one format a G.711 stream can play without
// resampling. Anything else is refused with what the file holds instead.
// Also the writer the tests and bench use to make their fixture.

import { MediaError } from './errors.js';

export class WavError extends MediaError {
  constructor(file: string, message: string) {
    super('WAV_INVALID', `${file}: ${message}`);
  }
}

/** The samples of an 8 kHz mono 16-bit PCM WAV file's bytes. */
export function parseWav(data: Buffer, file: string): Int16Array {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError(file, 'not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let off = 12;
  while (off + 8 <= data.length) {
    const id = data.toString('latin1', off, off + 4);
    const size = data.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > data.length) throw new WavError(file, 'fmt chunk too short');
      fmt = { format: data.readUInt16LE(body), channels: data.readUInt16LE(body + 2), rate: data.readUInt32LE(body + 4), bits: data.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavError(file, 'data chunk before the fmt chunk');
      // WAVE_FORMAT_EXTENSIBLE (0xfffe) holding PCM is read as PCM too.
      if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.channels !== 1 || fmt.rate !== 8000 || fmt.bits !== 16) {
        throw new WavError(file, `needs 8000 Hz mono 16-bit PCM, has ${fmt.rate} Hz, ${fmt.channels} channel(s), ${fmt.bits}-bit, format ${fmt.format}`);
      }
      const len = Math.min(size, data.length - body) & ~1;
      if (len < 320) throw new WavError(file, 'less than 20 ms of audio');
      const out = new Int16Array(len / 2);
      for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE(body + 2 * i);
      return out;
    }
    off = body + size + (size & 1);
  }
  throw new WavError(file, 'no data chunk');
}

/** An 8 kHz mono 16-bit PCM WAV file holding the samples. */
export function writeWav(samples: Int16Array): Buffer {
  const out = Buffer.alloc(44 + samples.length * 2);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + samples.length * 2, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(8000, 24);
  out.writeUInt32LE(16000, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, 44 + 2 * i);
  return out;
}

/** A sine tone of hz at amplitude (of 32767), n samples at 8 kHz. */
export function toneSamples(hz: number, n: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000));
  return out;
}
