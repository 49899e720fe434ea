/**
 * compare/ — compares a podwire run folder with a kernel reference folder (fixtures/kernel/…),
 * capture point by capture point: each capture becomes normalized one-line packet signatures
 * (the README's "Signatures": labels for MACs, ephemeral ports and ids, relative TCP numbers), the
 * capture points are paired by role through podwire's interfaces.json, and the two sequences are
 * diffed (Myers) into `=`/`!`/`<`/`>` rows. Expected differences, each with its reason, live in
 * known-differences.yaml at the repository root and do not fail a comparison. Used by `podwire
 * compare` and by kernel parity.
 */
export { CompareInputError } from './errors.js';
export {
  HTTP_PORTS,
  Signer,
  WELL_KNOWN_PORTS,
  formatSignaturesText,
  numberLines,
  signatures,
  type SignatureFile,
  type SignaturePacket,
} from './signature.js';
export {
  packetsFrom,
  readCapturePackets,
  readReferenceFolder,
  readRunFolder,
  type HostKind,
  type InterfaceKind,
  type ReferenceFolder,
  type RunFolder,
  type RunInfo,
  type RunInterface,
} from './folders.js';
export {
  REFERENCE_SWITCH_NETNS,
  describeRole,
  mapByRole,
  parseReferenceName,
  playsRole,
  referenceVethName,
  type ReferenceCapturePoint,
  type ReferenceRole,
  type RoleMapping,
  type RolePair,
} from './roles.js';
export { diffSequences, type EditOp } from './diff.js';
export {
  KNOWN_DIFFERENCES_FILE,
  defaultKnownDifferencesPath,
  knownFor,
  loadKnownDifferences,
  parseKnownDifferences,
  type KnownDifference,
} from './known-differences.js';
export {
  compareRun,
  comparePoint,
  diffRows,
  summarize,
  type CapturePointReport,
  type CompareOptions,
  type CompareReport,
  type DiffRow,
  type ExtraInterface,
  type PointInput,
  type PointStatus,
} from './compare.js';
export { LEGEND, changedWords, formatPoint, formatReport, formatRow, type FormatOptions } from './format.js';
export { compareRunFolders, runPointName, type CompareRunsOptions } from './compare-runs.js';
