// Seeded randomness for the traffic models: the generator and the distributions.
export { Random, streamSeed, MAX_SEED, STREAM_ARRIVALS, STREAM_INSTANCE } from './prng.js';
export { DISTRIBUTIONS, PARAMETERS, distributionProblem, meanOf, paretoScaleFor, sample, type Distribution } from './distribution.js';
