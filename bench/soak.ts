// Soak (npm run soak): calls (uac-call.yaml) at a steady rate for SOAK_SECONDS
// (default 600), memory of the generator sampled every second; prints the size
// each minute, after warm-up and at the end, the growth, and the event-loop
// lag. Warm-up is 2 minutes: an answered INVITE's transaction lives 32 s, so
// the work in flight grows for that long, and V8 sizes its old generation
// over the major collections that follow.

import { soak } from '../test/support/soak.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const r = await soak({ seconds, warmupSeconds: Math.min(120, Math.floor(seconds / 5)), rate: Number(process.env.SOAK_RATE ?? 200) });
const perMinute = r.samplesKb.filter((_, i) => (i + 1) % 60 === 0).map((kb) => (kb / 1024).toFixed(0));
console.log(`RSS each minute (MB): ${perMinute.join(' ')}`);
console.log(`soak: ${r.seconds} s at ${r.rate}/s: ${r.passed} passed, ${r.failed} failed; RSS after warm-up ${(r.warmKb / 1024).toFixed(1)} MB, at the end ${(r.endKb / 1024).toFixed(1)} MB (${(r.growth * 100).toFixed(1)}%), event-loop lag p99 ${r.lagP99Ms.toFixed(1)} ms`);
process.exitCode = Math.abs(r.growth) <= 0.1 && r.failed === 0 ? 0 : 1;
