import { FlowpoolError } from '../errors/flowpool-error.js';

/** The key was used for another job (another fingerprint) in this queue and namespace. */
export function idempotencyConflict(): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_IDEMPOTENCY_CONFLICT',
    'idempotencyKey: this key was already used in this queue and namespace for a different job (method, URL, ' +
      'body, or the content-type, content-encoding, authorization or cookie headers differ); use a new key ' +
      'for a new job. Nothing of the first job is returned',
    { field: 'idempotencyKey' },
  );
}
