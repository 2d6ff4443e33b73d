/**
 * The rule rotation and sync share: removing more than `maxShare` of what is held, in one run, looks like a broken
 * source (an emptied registry, a listing gone wrong), not a decision. A single removal always passes, or a fleet
 * of one could never lose its last member.
 */
export const isMassRemoval = (removing: number, held: number, maxShare: number): boolean =>
  removing > 1 && removing > maxShare * held;

/** "10 %": a share as the messages and the README give it. */
export const percent = (share: number): string => `${Math.round(share * 100)} %`;
