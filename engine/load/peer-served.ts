// Which UAs of a role this part (one worker of one shard) will start: the
// peer-ready rule (README, "Roles that call each other") holds a caller until
// its peer UA is ready, and can only do so for a peer this worker runs (ready
// is known within a worker, messages never cross threads).
//
// Open model: arrival k belongs to part (k mod parts) and plays user
// first + (k mod users). Closed model: user first + i belongs to part (i mod parts).

import type { LoadSettings } from '../scenario/index.js';
import type { Part } from './segment.js';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A predicate over user indexes (first-based) of one role: does this part ever start that user? */
export function servedUsers(load: LoadSettings, userCount: number, first: number, part: Part): (userIndex: number) => boolean {
  const inRange = (o: number) => o >= 0 && o < userCount;
  if (load.model === 'closed') return (u) => inRange(u - first) && (u - first) % part.count === part.index;
  const total = load.total;
  const g = gcd(part.count, userCount);
  // Arrivals k = index + j*parts reach every offset o with o ≡ index (mod gcd) once k spans parts*users.
  if (total === undefined || total >= part.index + part.count * userCount || !Number.isFinite(userCount)) {
    return (u) => inRange(u - first) && ((u - first) % g + g) % g === part.index % g;
  }
  const served = new Set<number>();
  for (let k = part.index; k < total; k += part.count) served.add(k % userCount);
  return (u) => served.has(u - first);
}
