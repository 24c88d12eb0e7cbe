// What a stream plays, encoded once per worker and codec: a tone (one second
// of it, which holds a whole number of periods of any whole-Hz tone),
// silence (one frame), or a WAV file (all of it, looped). Streams keep only
// their frame index into these.

import { readInputFile } from '../input-file.js';
import { encodeG711 } from './g711.js';
import type { AudioCodec, MediaSource } from './settings.js';
import { parseWav, toneSamples } from './wav.js';

/** 20 ms at 8 kHz. */
export const FRAME_SAMPLES = 160;

/** Encoded frames of a source, back to back (FRAME_SAMPLES bytes each). */
export interface EncodedSource {
  frames: Uint8Array;
  count: number;
}

function samplesOf(source: MediaSource): Int16Array {
  switch (source.type) {
    case 'tone':
      return toneSamples(source.hz, 8000);
    case 'silence':
      return new Int16Array(FRAME_SAMPLES);
    case 'wav':
      return parseWav(readInputFile(source.file, 'audio'), source.file);
  }
}

/** Encoded sources by source and codec: one per worker (the media scheduler holds it). */
export class SourceCache {
  private readonly cache = new Map<string, EncodedSource>();

  get(source: MediaSource, codec: AudioCodec): EncodedSource {
    const key = `${codec}:${source.type}:${source.type === 'tone' ? source.hz : source.type === 'wav' ? source.file : ''}`;
    let e = this.cache.get(key);
    if (!e) {
      const samples = samplesOf(source);
      const count = Math.max(1, Math.floor(samples.length / FRAME_SAMPLES));
      const frames = new Uint8Array(count * FRAME_SAMPLES);
      encodeG711(codec, samples.subarray(0, count * FRAME_SAMPLES), frames);
      e = { frames, count };
      this.cache.set(key, e);
    }
    return e;
  }
}
