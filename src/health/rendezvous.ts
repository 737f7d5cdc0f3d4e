/**
 * Rendezvous (highest-random-weight) hashing (SPEC §6): every instance ranks the live members for an
 * endpoint by hash(endpoint, member) and the top `count` probe it. All instances that agree on the
 * membership agree on the probers without talking to each other, and a member leaving moves only the
 * endpoints it probed.
 */
import { createHash } from 'node:crypto';

/** The `count` members that probe `key` (fewer when the fleet is smaller). */
export function rendezvousOwners(key: string, members: readonly string[], count: number): string[] {
  return members
    .map((member) => ({ member, weight: weightOf(key, member) }))
    .sort((a, b) => b.weight - a.weight || (a.member < b.member ? -1 : 1))
    .slice(0, count)
    .map((ranked) => ranked.member);
}

/** A uniform 48-bit weight: sha256 so weights do not correlate across similar ids (pod-1, pod-2). */
function weightOf(key: string, member: string): number {
  return createHash('sha256').update(key).update('\n').update(member).digest().readUIntBE(0, 6);
}
