// Traces and captures of a run's own traffic (--trace, --trace-failed, --pcap, --tls-keylog): the public surface of engine/capture.

export { CaptureRecorder, epochNow, type Mask, type WorkerCapture } from './recorder.js';
export { CaptureSession, CaptureFileError, DEFAULT_CAPTURE_MAX_BYTES, type CaptureFiles } from './session.js';
export { passwordPatternMask, secretsMask } from './mask.js';
