/**
 * A value quoted in a config error, with what a URL in it may carry of a secret left out: the
 * message lands in the service's log (journald, a supervisor's file). That is the password, a
 * user name given alone (`https://<token>@host` is how many services take a token), and the
 * query and fragment, where tokens travel. Anything that is no URL is shown as typed.
 */
export function redactUrlSecrets(text: string): string {
  return (
    text
      // Up to the URL's last '@': a password that makes the URL invalid may hold '/', '@' or spaces.
      .replace(/(\/\/[^/@\s:]*:).*@/, '$1***@')
      .replace(/\/\/[^/@\s:]+@/, '//***@')
      .replace(/(\/\/[^?#]*[?#]).*$/s, '$1***')
  );
}
