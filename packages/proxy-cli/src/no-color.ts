/** The environment as the CLI reads and changes it: the process's own in `bin.ts`. */
type Env = Record<string, string | undefined>;

/** Whether NO_COLOR turns colours off: any non-empty value does (no-color.org), '' does not. */
export function noColorAsked(env: Readonly<Env>): boolean {
  const value = env['NO_COLOR'];
  return value !== undefined && value !== '';
}

/**
 * Removes FORCE_COLOR when NO_COLOR overrules it, as it does for the CLI's own colours. Left in,
 * Node warns that NO_COLOR "is ignored due to the FORCE_COLOR env being set" the first time
 * anything asks it for a colour depth (ora's colour library as it loads, Node 24's util as it is
 * imported): the opposite of what the CLI does. The CLI starts no child process that FORCE_COLOR
 * could be meant for.
 */
export function dropOverruledForceColor(env: Env): void {
  if (noColorAsked(env)) delete env['FORCE_COLOR'];
}
