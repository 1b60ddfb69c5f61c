/** The hint to a --url under /api, to a call refused before sending and to a read taken for a task. */
export const DROP_API =
  "drop /api from --url (or PROXY_URL): the proxy's own routes (/stats, /tasks, /task/<id>) sit beside /api/, and a request under it goes to the target as a task";
