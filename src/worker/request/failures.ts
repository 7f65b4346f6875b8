/**
 * What a job in the worker fails with: undici's and the connector's errors mapped to FlowpoolError codes,
 * and the error a job stopped by its deadline or its caller gets.
 */
import { FlowpoolError, type TimeoutPhase } from '../../errors/flowpool-error.js';
import { ConnectGuardError } from '../connect/agent.js';

/** Why a job was stopped early. */
export type AbortCause =
  { readonly kind: 'cancel' } | { readonly kind: 'timeout'; readonly which: 'total' | 'headers' };

export const CANCELLED: AbortCause = { kind: 'cancel' };
export const TOTAL_TIMEOUT: AbortCause = { kind: 'timeout', which: 'total' };
export const HEADERS_TIMEOUT: AbortCause = { kind: 'timeout', which: 'headers' };

/** The error a job stopped by its deadline or by its caller fails with. */
export function stoppedError(
  cause: AbortCause,
  phase: TimeoutPhase,
  timeoutMs: number,
  headersTimeoutMs: number,
): FlowpoolError {
  if (cause.kind === 'cancel') return new FlowpoolError('FLOWPOOL_ABORTED', 'job was cancelled');
  const which = cause.which === 'headers' ? 'headersTimeoutMs' : 'timeoutMs';
  const ms = cause.which === 'headers' ? headersTimeoutMs : timeoutMs;
  return new FlowpoolError('FLOWPOOL_TIMEOUT', `${which} (${ms} ms) elapsed while waiting for the ${phase}`, {
    phase: cause.which === 'headers' ? 'headers' : phase,
  });
}

export function proxyAuthRefused(proxy: string): FlowpoolError {
  return new FlowpoolError(
    'FLOWPOOL_CONNECTION_FAILED',
    `proxy ${proxy} refused the request with status 407: proxy authentication required or refused (check the proxy URL credentials)`,
    { causeCode: 'PROXY_AUTH_REQUIRED' },
  );
}

export function toFlowpoolError(error: unknown): FlowpoolError {
  if (error instanceof FlowpoolError) return error;
  if (error instanceof ConnectGuardError) {
    if (error.code === 'FLOWPOOL_BLOCKED_DESTINATION') {
      return new FlowpoolError('FLOWPOOL_BLOCKED_DESTINATION', error.message, { reason: error.reason });
    }
    return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', error.message, { causeCode: error.code });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  const causeCode = typeof code === 'string' ? code : undefined;
  const details = causeCode === undefined ? {} : { causeCode };
  switch (causeCode) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'headers' });
    case 'UND_ERR_BODY_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'body' });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new FlowpoolError('FLOWPOOL_TIMEOUT', text, { ...details, phase: 'connect' });
    case 'UND_ERR_HEADERS_OVERFLOW':
      return new FlowpoolError(
        'FLOWPOOL_RESPONSE_TOO_LARGE',
        `response headers exceed maxHeaderBytes: ${text}`,
        details,
      );
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new FlowpoolError('FLOWPOOL_RESPONSE_TOO_LARGE', text, details);
    default:
      return new FlowpoolError('FLOWPOOL_CONNECTION_FAILED', text, details);
  }
}
