/**
 * The CNI error result (containernetworking/cni SPEC.md "Error", pkg/types/types.go `Error`).
 * A plugin failure is not a podwire error: the runtime reports it as the pod's sandbox-creation
 * event and the pod stays ContainerCreating — so it carries the exact code and message the real
 * plugin prints.
 *
 * Codes: skel (pkg/skel/skel.go) gives the well-known ones for environment, decoding and version
 * problems; any other error a plugin returns is wrapped as code 999 (`ErrInternal`) with the Go
 * error text as `msg` (`checkVersionAndCall`: `types.NewError(types.ErrInternal, err.Error(), "")`),
 * and an error a delegated IPAM plugin printed passes through unchanged.
 */
import { marshalIndent, type GoJsonValue } from './go-json.js';

/** pkg/types/types.go, "Well known error codes". */
export const CniErrorCode = {
  Unknown: 0,
  IncompatibleCniVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironmentVariables: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  InvalidNetNs: 8,
  TryAgainLater: 11,
  Internal: 999,
} as const;

export class CniError extends Error {
  override readonly name = 'CniError';

  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details = '',
  ) {
    // types.Error.Error(): msg, then "; details" when there are details.
    super(details === '' ? msg : `${msg}; ${details}`);
  }

  /** A plugin's plain Go error, as skel wraps it: code 999, the error text as msg. */
  static internal(msg: string): CniError {
    return new CniError(CniErrorCode.Internal, msg);
  }
}

export interface CniErrorJsonOptions {
  /**
   * SPEC.md puts `cniVersion` first in the error object, but libcni's `types.Error` has no such
   * field, so plugins built on it (all of containernetworking/plugins) never print one. Give a
   * version to get the spec's shape instead.
   */
  readonly cniVersion?: string;
}

/** The error JSON a plugin prints on stdout (`types.Error.Print`: 4-space MarshalIndent). */
export function cniErrorJson(e: CniError, opts: CniErrorJsonOptions = {}): string {
  const o: Record<string, GoJsonValue> = {};
  if (opts.cniVersion !== undefined) o['cniVersion'] = opts.cniVersion;
  o['code'] = e.code;
  o['msg'] = e.msg;
  if (e.details !== '') o['details'] = e.details;
  return marshalIndent(o);
}
