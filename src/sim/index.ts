/**
 * sim/ — virtual time and seeded randomness: the discrete-event scheduler every hop, timer and app
 * step runs on, and per-purpose random streams. Imports nothing else of podwire's.
 */
export { Scheduler, VIRTUAL_EPOCH_SEC, type EventFn, type TimerHandle } from './scheduler.js';
export { Random, RandomStream } from './random.js';
