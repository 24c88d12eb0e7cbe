// A scenario's `media:` setting (at the top, or a role's own) into the
// compiled MediaSettings: defaults filled in, the port range and the WAV file
// checked here, before any traffic, each problem at its file:line:col.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
// The media settings, their error and the WAV reader only: the rest of engine/media (streams, RTP) is a worker's.
import { DEFAULT_MEDIA, type AudioCodec, type Direction, type MediaSettings, type MediaSource } from '../media/settings.js';
import { MediaError } from '../media/errors.js';
import { parseWav } from '../media/wav.js';
import { InputFileError, readInputFile } from '../input-file.js';
import { parseDuration } from './duration.js';

type Raw = Record<string, unknown>;
type Path = (string | number)[];

/** What media.ts needs of the compiler: where to report. */
export interface MediaCompileHost {
  fail(code: string, path: Path, message: string, key?: string): void;
}

export function mediaOf(c: MediaCompileHost, m: Raw | undefined, path: Path, baseDir: string): MediaSettings | undefined {
  if (m === undefined) return undefined;
  const p = [...path, 'media'];
  let source: MediaSource = DEFAULT_MEDIA.source;
  const kind = (m.source as string | undefined) ?? (m.file !== undefined ? 'wav' : 'tone');
  if (kind === 'silence') source = { type: 'silence' };
  else if (kind === 'tone') source = { type: 'tone', hz: (m.tone as number | undefined) ?? 400 };
  else if (m.file === undefined) c.fail('SCENARIO_MEDIA', p, `'source: wav' needs 'file' (an 8 kHz mono 16-bit WAV)`, 'source');
  else {
    const file = resolve(baseDir, String(m.file));
    source = { type: 'wav', file };
    if (!existsSync(file)) c.fail('SCENARIO_FILE', [...p, 'file'], `WAV file '${String(m.file)}' not found next to the scenario`);
    else {
      try {
        parseWav(readInputFile(file, 'audio'), String(m.file));
      } catch (err) {
        if (err instanceof InputFileError) c.fail('SCENARIO_FILE', [...p, 'file'], `WAV file '${String(m.file)}' ${err.reason}`);
        else if (err instanceof MediaError) c.fail('SCENARIO_MEDIA', [...p, 'file'], err.message);
        else throw err;
      }
    }
  }
  let ports: [number, number] | undefined;
  if (m.ports !== undefined) {
    const [lo, hi] = String(m.ports).split('-').map(Number) as [number, number];
    if (!(lo >= 1024 && hi <= 65535 && hi > lo)) c.fail('SCENARIO_MEDIA', [...p, 'ports'], `ports '${String(m.ports)}': write LOW-HIGH, 1024 <= LOW < HIGH <= 65535`);
    else ports = [lo, hi];
  }
  return {
    codecs: (m.codecs as AudioCodec[] | undefined) ?? DEFAULT_MEDIA.codecs,
    source,
    direction: (m.direction as Direction | undefined) ?? DEFAULT_MEDIA.direction,
    ...(m.duration !== undefined ? { durationMs: parseDuration(m.duration as string)! } : {}),
    oneWayAfterMs: m.oneWayAfter !== undefined ? parseDuration(m.oneWayAfter as string)! : DEFAULT_MEDIA.oneWayAfterMs,
    ...(ports ? { ports } : {}),
  };
}
