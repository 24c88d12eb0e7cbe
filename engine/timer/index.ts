// Timers: the clock abstraction and the one wheel per event loop.
export { systemClock, ManualClock, type Clock } from './clock.js';
export { TimerWheel, type TimerHandle, type TimerTarget } from './wheel.js';
