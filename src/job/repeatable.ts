/**
 * The one rule for "safe to send again", shared by retries, the keep-alive resend, crash re-runs and queue
 * mode's redelivery: RFC 9110's idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE), unless the job says
 * otherwise with `idempotent` (true: any method may be repeated; false: never repeat this one).
 */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Whether a job with this method and `idempotent` field may be sent more than once. */
export function isRepeatable(method: string | undefined, idempotent: boolean | undefined): boolean {
  if (idempotent !== undefined) return idempotent;
  return IDEMPOTENT_METHODS.has((method ?? 'GET').toUpperCase());
}
