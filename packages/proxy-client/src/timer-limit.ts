/**
 * The longest delay a timer takes (2³¹−1 ms, about 24.8 days): the ceiling of every wait, poll
 * interval and time limit the SDK accepts. Exported so tools built on the SDK check their own
 * flags against it.
 */
export const MAX_TIMER_MS = 2_147_483_647;
