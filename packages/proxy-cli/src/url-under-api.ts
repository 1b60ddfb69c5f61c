/** A base URL whose path ends in /api: the proxy's submission prefix, not its base. */
export function endsUnderApi(url: string): boolean {
  try {
    return /\/api\/?$/.test(new URL(url).pathname);
  } catch {
    return false;
  }
}

export const DROP_API =
  "drop /api from --url (or PROXY_URL): the proxy's own routes (/stats, /tasks, /task/<id>) sit beside /api/, and a request under it goes to the target as a task";
