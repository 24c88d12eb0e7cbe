// Distributions of pauses and hold times (SIPp's set: fixed, uniform, normal,
// exponential, lognormal, Pareto), as plain data in the compiled scenario, and
// their sampling from a seeded generator (prng.ts). Times are milliseconds.
// Every distribution is written by what a user knows of the times it gives:
// lognormal by the mean and standard deviation of the pauses themselves (SIPp
// takes those of the underlying normal), Pareto by its shape and scale (x_m,
// the shortest pause), or its shape and mean.

import type { Random } from './prng.js';

export type Distribution =
  | { type: 'fixed'; ms: number }
  | { type: 'uniform'; min: number; max: number }
  /** Cut at zero: a negative draw is a pause of 0. */
  | { type: 'normal'; mean: number; stddev: number }
  | { type: 'exponential'; mean: number }
  | { type: 'lognormal'; mean: number; stddev: number }
  | { type: 'pareto'; shape: number; scale: number };

export const DISTRIBUTIONS = ['fixed', 'uniform', 'normal', 'exponential', 'lognormal', 'pareto'] as const;

/** The parameters each distribution takes (as written in a scenario). */
export const PARAMETERS: Record<(typeof DISTRIBUTIONS)[number], string[]> = {
  fixed: ['value'],
  uniform: ['min', 'max'],
  normal: ['mean', 'stddev'],
  exponential: ['mean'],
  lognormal: ['mean', 'stddev'],
  pareto: ['shape', 'scale', 'mean'],
};

/** What is wrong with a distribution's parameters, or undefined. */
export function distributionProblem(d: Distribution): string | undefined {
  switch (d.type) {
    case 'fixed':
      return d.ms >= 0 ? undefined : 'a pause cannot be negative';
    case 'uniform':
      return d.min >= 0 && d.max >= d.min ? undefined : `a uniform pause needs 'max' at least 'min'`;
    case 'normal':
      return d.mean >= 0 && d.stddev >= 0 ? undefined : `a normal pause needs 'mean' and 'stddev' of 0 or more`;
    case 'exponential':
      return d.mean > 0 ? undefined : `an exponential pause needs a 'mean' above 0`;
    case 'lognormal':
      return d.mean > 0 && d.stddev >= 0 ? undefined : `a lognormal pause needs a 'mean' above 0 and a 'stddev' of 0 or more`;
    case 'pareto':
      if (!(d.shape > 0)) return `a pareto pause needs a 'shape' above 0`;
      return d.scale > 0 ? undefined : `a pareto pause needs a 'scale' (or 'mean') above 0`;
  }
}

/** The mean of the times a distribution gives (Infinity for a Pareto of shape <= 1). */
export function meanOf(d: Distribution): number {
  switch (d.type) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'normal':
      return d.stddev === 0 ? Math.max(0, d.mean) : truncatedNormalMean(d.mean, d.stddev);
    case 'exponential':
    case 'lognormal':
      return d.mean;
    case 'pareto':
      return d.shape <= 1 ? Infinity : (d.shape * d.scale) / (d.shape - 1);
  }
}

/** The Pareto scale (x_m) that gives `mean` at `shape` (> 1). */
export function paretoScaleFor(shape: number, mean: number): number {
  return (mean * (shape - 1)) / shape;
}

/** One draw. */
export function sample(d: Distribution, rng: Random): number {
  switch (d.type) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return d.min + rng.next() * (d.max - d.min);
    case 'normal':
      return Math.max(0, d.mean + d.stddev * standardNormal(rng));
    case 'exponential':
      return -d.mean * Math.log(rng.nextOpen());
    case 'lognormal': {
      // The underlying normal's parameters from the mean m and deviation s of the values:
      // sigma^2 = ln(1 + s^2/m^2), mu = ln(m) - sigma^2/2.
      const s2 = Math.log(1 + (d.stddev * d.stddev) / (d.mean * d.mean));
      return Math.exp(Math.log(d.mean) - s2 / 2 + Math.sqrt(s2) * standardNormal(rng));
    }
    case 'pareto':
      // Inverse transform: x_m / U^(1/shape), U in (0, 1].
      return d.scale / Math.pow(rng.nextOpen(), 1 / d.shape);
  }
}

/** Box-Muller (one of the pair: keeping the other would make a draw depend on the one before). */
function standardNormal(rng: Random): number {
  return Math.sqrt(-2 * Math.log(rng.nextOpen())) * Math.cos(2 * Math.PI * rng.next());
}

/** Mean of max(0, X) for X normal(mu, sigma): mu*Phi(mu/sigma) + sigma*phi(mu/sigma). */
function truncatedNormalMean(mu: number, sigma: number): number {
  const z = mu / sigma;
  const pdf = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
  return mu * normalCdf(z) + sigma * pdf;
}

/** Abramowitz and Stegun 7.1.26 through erf: good to 1e-7, enough for a mean hold time. */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
