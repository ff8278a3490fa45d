// oauth2-proxy's default refresh is never. latchkey's own deployments (`latchkey serve`, and the
// proxy of `latchkey generate systemd|compose`) check each session with the provider every few
// minutes instead, so a user removed while a back-channel logout did not arrive, or a grant revoked
// while the proxy was down (its list of ended sessions is in memory), loses access within that
// time, and group changes reach the site (the admin console says within how long).
export const SESSION_RECHECK_MINUTES = 5;

/** The proxy flag that does it. */
export const SESSION_RECHECK_FLAG = `--cookie-refresh=${SESSION_RECHECK_MINUTES}m`;
