// Timers: the clock abstraction and the one wheel per event loop.
export { systemClock, ManualClock, type Clock } from './clock.js';
export { TimerWheel, type TimerHandle } from './wheel.js';
